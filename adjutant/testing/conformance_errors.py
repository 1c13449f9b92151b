"""Conformance cases for the runtime contract's errors: which type each failure raises,
and which of :class:`~adjutant.container.EngineTimeouts`' bounds each engine call gets.

A runtime plugin runs them as it runs :mod:`adjutant.testing.conformance`, by subclassing:

- :class:`ErrorConformance` needs the ``runtime`` and ``image`` fixtures of that suite;
- :class:`BoundConformance` needs ``bounded_runtime`` (a runtime opened with
  ``EngineTimeouts(api=BOUNDS.api, commit=BOUNDS.commit)``, the default image present)
  and ``hang_engine`` (a callable returning a context manager during which the real engine
  accepts connections but answers nothing, e.g. its service process stopped with SIGSTOP:
  see :func:`adjutant.testing.engines.engine_frozen`).

Every case works on objects that do not exist (an absent image, container, registry), so
a call the engine carries out late, after the test's client gave up, changes nothing.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import pytest

from adjutant.container import (
    Bound,
    ContainerError,
    ContainerRuntime,
    ContainerSpec,
    EngineTimeout,
    EngineTimeouts,
    ImageUnavailable,
)
from adjutant.testing.engines import unique_label

#: The bounds :class:`BoundConformance` expects its runtime to be opened with: apart, so
#: the seconds a hung call took tell which one it was given.
BOUNDS = EngineTimeouts(api=1, commit=3)

#: Far above both bounds: only a call that ignores its bound runs this long.
HANG_GUARD = 30.0

#: An image and a container that exist nowhere (valid names, so only absence fails them).
ABSENT_IMAGE = "localhost/adjutant-conformance-absent:none"
ABSENT_CONTAINER = "adjutant-conformance-absent-container"
#: A registry that refuses at once: nothing listens on port 1.
UNREACHABLE_REF = "localhost:1/adjutant/absent:1"


def outcome(call: Callable[[], object]) -> tuple[BaseException | None, float]:
    """What ``call`` raised (None if nothing) and how long it took; fails the test when the
    call is still blocked after :data:`HANG_GUARD`."""
    result: list[BaseException | None] = []
    started = time.monotonic()

    def target() -> None:
        try:
            call()
            result.append(None)
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), f"the call ignored its bound ({HANG_GUARD}s and counting)"
    return result[0], time.monotonic() - started


def _contract_error(runtime: ContainerRuntime, call: Callable[[], object],
                    kind: type[ContainerError] = ContainerError) -> ContainerError:
    """The error ``call`` raises, which must be ``kind`` and name the runtime."""
    with pytest.raises(ContainerError) as caught:
        call()
    error = caught.value
    assert isinstance(error, kind), f"{type(error).__name__} is not a {kind.__name__}"
    assert f"{runtime.name}:" in str(error) or isinstance(error, ImageUnavailable), str(error)
    return error


class ErrorConformance:
    """Failures surface as the contract's types, never as the engine SDK's exceptions; what
    is merely absent is not an error where the contract says so."""

    def test_absent_images(self, runtime: ContainerRuntime, image: str) -> None:
        assert runtime.inspect_image(ABSENT_IMAGE) is None
        assert runtime.image_id(ABSENT_IMAGE) is None
        assert runtime.image_names("localhost/adjutant-conformance-absent") == []
        runtime.remove_image(ABSENT_IMAGE)  # nothing to remove: not an error
        _contract_error(runtime, lambda: runtime.tag_image(ABSENT_IMAGE, f"{ABSENT_IMAGE}2"))
        error = _contract_error(
            runtime, lambda: runtime.create(ContainerSpec(image=ABSENT_IMAGE, command=("true",),
                                                          labels=unique_label())),
            ImageUnavailable)
        assert isinstance(error, ImageUnavailable) and error.image == ABSENT_IMAGE

    def test_a_pull_that_cannot_reach_its_registry(self, runtime: ContainerRuntime,
                                                  image: str) -> None:
        error = _contract_error(runtime, lambda: runtime.pull(UNREACHABLE_REF, 30),
                                ImageUnavailable)
        assert UNREACHABLE_REF in str(error)

    def test_absent_containers(self, runtime: ContainerRuntime, image: str) -> None:
        calls: dict[str, Callable[[], object]] = {
            "start": lambda: runtime.start(ABSENT_CONTAINER),
            "wait": lambda: runtime.wait(ABSENT_CONTAINER, 10),
            "container_state": lambda: runtime.container_state(ABSENT_CONTAINER),
            "read_output": lambda: list(runtime.read_output(ABSENT_CONTAINER)),
            "commit": lambda: runtime.commit(ABSENT_CONTAINER, ABSENT_IMAGE, {}),
        }
        for name, call in calls.items():
            error = _contract_error(runtime, call)
            assert ABSENT_CONTAINER in str(error), f"{name}: {error}"
        # Cleanup of what is already gone succeeds: a sweep may race the engine.
        runtime.kill(ABSENT_CONTAINER)
        runtime.remove(ABSENT_CONTAINER)

    def test_kill_and_remove_of_an_exited_container(self, runtime: ContainerRuntime,
                                                    image: str) -> None:
        cid = runtime.create(ContainerSpec(image=image, command=("true",),
                                           labels=unique_label()))
        try:
            runtime.start(cid)
            assert runtime.wait(cid, 60) == 0
            runtime.kill(cid)  # not running any more: nothing to kill
        finally:
            runtime.remove(cid)
        runtime.remove(cid)  # twice: already gone


def _create_absent(runtime: ContainerRuntime) -> str:
    return runtime.create(ContainerSpec(image=ABSENT_IMAGE, command=("true",),
                                        labels=unique_label()))


#: Each engine call of the contract that has a bound, with the bound it must be given.
BOUNDED_CALLS: dict[str, tuple[Bound, Callable[[ContainerRuntime], object]]] = {
    "version": ("api", lambda rt: rt.version()),
    "storage_path": ("api", lambda rt: rt.storage_path()),
    "inspect_image": ("api", lambda rt: rt.inspect_image(ABSENT_IMAGE)),
    "image_names": ("api", lambda rt: rt.image_names(ABSENT_IMAGE.split(":")[0])),
    "tag_image": ("api", lambda rt: rt.tag_image(ABSENT_IMAGE, f"{ABSENT_IMAGE}2")),
    "create": ("api", _create_absent),
    "start": ("api", lambda rt: rt.start(ABSENT_CONTAINER)),
    "container_state": ("api", lambda rt: rt.container_state(ABSENT_CONTAINER)),
    "read_output": ("api", lambda rt: list(rt.read_output(ABSENT_CONTAINER))),
    "kill": ("api", lambda rt: rt.kill(ABSENT_CONTAINER)),
    "list_containers": ("api", lambda rt: rt.list_containers(unique_label())),
    "commit": ("commit", lambda rt: rt.commit(ABSENT_CONTAINER, ABSENT_IMAGE, {})),
    "remove": ("commit", lambda rt: rt.remove(ABSENT_CONTAINER)),
    "remove_image": ("commit", lambda rt: rt.remove_image(ABSENT_IMAGE)),
}


class BoundConformance:
    """On a hung engine every call fails in time with EngineTimeout naming the bound it was
    given: ``api`` for calls that should answer at once, ``commit`` for those that write or
    delete layers. Waiting for a container is bounded by the build's timeout instead."""

    @pytest.mark.parametrize("call", sorted(BOUNDED_CALLS))
    def test_a_hung_call_fails_naming_its_bound(
            self, bounded_runtime: ContainerRuntime,
            hang_engine: Callable[[], contextlib.AbstractContextManager[None]],
            call: str) -> None:
        bound, run = BOUNDED_CALLS[call]
        seconds = getattr(BOUNDS, bound)
        with hang_engine():
            error, took = outcome(lambda: run(bounded_runtime))
        assert isinstance(error, EngineTimeout), f"{call}: {error!r}"
        assert f"container_timeouts {bound}" in str(error), f"{call}: {error}"
        assert f"within {seconds:g}s" in str(error), f"{call}: {error}"
        # Not cut short by the smaller bound: the call really had its own.
        assert took >= seconds * 0.9, f"{call} gave up after {took:.1f}s, not {seconds}s"
        # The engine answers again: so does the runtime (no connection left broken).
        assert bounded_runtime.inspect_image(ABSENT_IMAGE) is None

    def test_waiting_without_a_build_timeout_outlasts_the_api_bound(
            self, bounded_runtime: ContainerRuntime, image: str) -> None:
        spec = ContainerSpec(image=image, command=("sleep", str(BOUNDS.api + 2)),
                             labels=unique_label(), timeout=None)
        cid = bounded_runtime.create(spec)
        try:
            bounded_runtime.start(cid)
            assert bounded_runtime.wait(cid, None) == 0
        finally:
            bounded_runtime.remove(cid)

    def test_a_build_timeout_is_not_an_engine_timeout(
            self, bounded_runtime: ContainerRuntime, image: str) -> None:
        cid = bounded_runtime.create(ContainerSpec(image=image, command=("sleep", "30"),
                                                   labels=unique_label()))
        try:
            bounded_runtime.start(cid)
            with pytest.raises(TimeoutError) as caught:
                bounded_runtime.wait(cid, BOUNDS.api + 1)
            assert not isinstance(caught.value, ContainerError)
        finally:
            bounded_runtime.remove(cid)
