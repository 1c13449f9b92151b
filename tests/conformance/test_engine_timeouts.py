"""The error and bound conformance cases, on the real podman and docker engines, and what a
hung engine leaves behind.

The engine is made to hang for real: its service process is stopped with SIGSTOP.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import pytest

from adjutant.container import ContainerRuntime, ContainerSpec, EngineTimeout
from adjutant.image.default import DEFAULT_IMAGE
from adjutant.testing.conformance_errors import (
    BOUNDS,
    BoundConformance,
    ErrorConformance,
    outcome,
)
from adjutant.testing.engines import bounded_runtime as open_bounded
from adjutant.testing.engines import engine_frozen, unique_label

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module", params=["podman", "docker"])
def bounded_runtime(request: pytest.FixtureRequest) -> Iterator[ContainerRuntime]:
    yield from open_bounded(request.param, BOUNDS)


@pytest.fixture
def hang_engine(bounded_runtime: ContainerRuntime) \
        -> Callable[[], contextlib.AbstractContextManager[None]]:
    return lambda: engine_frozen(bounded_runtime)


class TestBounds(BoundConformance):
    @pytest.fixture
    def image(self) -> str:
        return DEFAULT_IMAGE


class TestErrors(ErrorConformance):
    """Run on the bounded runtime: its engine's errors must not depend on the bounds."""

    @pytest.fixture
    def runtime(self, bounded_runtime: ContainerRuntime) -> ContainerRuntime:
        return bounded_runtime

    @pytest.fixture
    def image(self) -> str:
        return DEFAULT_IMAGE


def test_creating_a_container_on_a_hung_engine_leaves_nothing_behind(
        bounded_runtime: ContainerRuntime) -> None:
    runtime = bounded_runtime
    label = unique_label()
    spec = ContainerSpec(image=DEFAULT_IMAGE, command=("true",), labels=label)
    with engine_frozen(runtime):
        error, _ = outcome(lambda: runtime.create(spec))
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
