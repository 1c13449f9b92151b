"""Fixtures for the fake hub tests: a started hub and logged-in build hosts."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import koji
import pytest

from tests.support.fakehub import FakeHub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub(tmp_path / "koji") as started:
        yield started


@dataclass
class Builder:
    """A build host known to the hub, with a logged-in exclusive session."""

    host_id: int
    name: str
    password: str
    session: koji.ClientSession


@pytest.fixture
def make_builder(hub: FakeHub) -> Callable[..., Builder]:
    """``make_builder(name="builder1", ready=True, **add_host_kwargs)``: add a host, log it
    in, take the lock and (with ``ready``) send one heartbeat saying it is ready."""
    counter = iter(range(1, 1000))

    def make(name: str | None = None, ready: bool = True, **kwargs: Any) -> Builder:
        name = name or f"builder{next(counter)}"
        password = f"{name}-pw"
        host_id = hub.add_host(name, password=password, **kwargs)
        session = hub.client(name, password, exclusive=True)
        if ready:
            session.host.updateHost(0.0, True)
        return Builder(host_id, name, password, session)

    return make


@pytest.fixture
def builder(make_builder: Callable[..., Builder]) -> Builder:
    return make_builder("builder1")
