"""A hung engine: every call is bounded, and the runtime works again once the engine does.

The engine is made to hang for real: its service process is stopped with SIGSTOP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from adjutant.container import ContainerRuntime, ContainerSpec, EngineTimeout, EngineTimeouts
from adjutant.image.default import DEFAULT_IMAGE
from adjutant.testing.engines import bounded_runtime, engine_frozen, unique_label

pytestmark = pytest.mark.engine

#: Far above the 1 s bound: only a call that ignores its bound takes this long.
HANG_GUARD = 30.0


@pytest.fixture(scope="module", params=["podman", "docker"])
def runtime(request: pytest.FixtureRequest) -> Iterator[ContainerRuntime]:
    yield from bounded_runtime(request.param, EngineTimeouts(api=1, commit=1))


def _outcome(call: Callable[[], object]) -> BaseException | None:
    """Run ``call`` and return what it raised; fail if it is still blocked after the guard."""
    result: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
            result.append(None)
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), f"the call ignored its 1 s bound ({HANG_GUARD}s and counting)"
    return result[0]


def test_a_call_to_a_hung_engine_fails_naming_its_bound(runtime: ContainerRuntime) -> None:
    with engine_frozen(runtime):
        error = _outcome(lambda: runtime.inspect_image(DEFAULT_IMAGE))
    assert isinstance(error, EngineTimeout)
    assert f"{runtime.name}: looking up image" in str(error)
    assert "no answer within 1s" in str(error) and "container_timeouts api" in str(error)
    # The engine answers again: so does the runtime (no connection left broken).
    assert runtime.image_id(DEFAULT_IMAGE) is not None


def test_creating_a_container_on_a_hung_engine_fails_and_leaves_nothing(
        runtime: ContainerRuntime) -> None:
    label = unique_label()
    spec = ContainerSpec(image=DEFAULT_IMAGE, command=("true",), labels=label)
    with engine_frozen(runtime):
        error = _outcome(lambda: runtime.create(spec))
    assert isinstance(error, EngineTimeout) and "creating a container" in str(error)
    # The engine may still carry out the create it was sent, after the client gave up:
    # the worker's leftover sweep finds such a container by its labels, as here.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        late = runtime.list_containers(label)
        for info in late:
            runtime.remove(info.id)
        if late:
            break
        time.sleep(0.2)
    assert runtime.list_containers(label) == []


def test_waiting_without_a_build_timeout_is_not_cut_by_the_api_bound(
        runtime: ContainerRuntime) -> None:
    spec = ContainerSpec(image=DEFAULT_IMAGE, command=("sleep", "3"), labels=unique_label(),
                         timeout=None)
    cid = runtime.create(spec)
    try:
        runtime.start(cid)
        assert runtime.wait(cid, None) == 0  # 3 s, longer than the 1 s api bound
    finally:
        runtime.remove(cid)


def test_writing_an_image_on_a_hung_engine_fails_naming_the_commit_bound(
        runtime: ContainerRuntime) -> None:
    cid = runtime.create(ContainerSpec(image=DEFAULT_IMAGE, command=("true",),
                                       labels=unique_label()))
    ref = f"localhost/adjutant-timeout-test:{cid[:12]}"
    try:
        runtime.start(cid)
        assert runtime.wait(cid, 60) == 0
        with engine_frozen(runtime):
            error = _outcome(lambda: runtime.commit(cid, ref, {}))
        assert isinstance(error, EngineTimeout) and "committing" in str(error)
        assert "container_timeouts commit" in str(error)
    finally:
        runtime.remove(cid)
        deadline = time.monotonic() + 10  # a commit finished late leaves an image
        while time.monotonic() < deadline and runtime.image_id(ref) is None:
            time.sleep(0.2)
        runtime.remove_image(ref)
