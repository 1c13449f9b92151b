"""The shared runtime conformance suite, run against the real podman and docker engines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adjutant.container.runtime import ContainerRuntime
from adjutant.testing.conformance import ImageConformance, RuntimeConformance
from adjutant.testing.engines import engine_with_default_image

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module", params=["podman", "docker"])
def engine(request: pytest.FixtureRequest) -> Iterator[tuple[ContainerRuntime, str]]:
    yield from engine_with_default_image(request.param)


class TestConformance(RuntimeConformance, ImageConformance):
    @pytest.fixture
    def runtime(self, engine: tuple[ContainerRuntime, str]) -> ContainerRuntime:
        return engine[0]

    @pytest.fixture
    def image(self, engine: tuple[ContainerRuntime, str]) -> str:
        return engine[1]
