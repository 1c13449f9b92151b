"""Fixtures of the command-line tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adjutant.container.runtime import ContainerRuntime
from adjutant.testing.engines import engine_with_default_image


@pytest.fixture(scope="module", params=["podman", "docker"])
def engine(request: pytest.FixtureRequest) -> Iterator[ContainerRuntime]:
    """Each engine in turn, with the default buildroot image present."""
    for runtime, _image in engine_with_default_image(request.param):
        yield runtime
