"""The hub's record of a task's buildroot: newBuildRoot, package lists, states to EXPIRED."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)


class HubBuildroot:
    """One buildroot on the hub, always ending EXPIRED (success or failure).

    States go INIT (package list set) → BUILDING (list updated after the build) →
    EXPIRED, the order the hub enforces.
    """

    def __init__(self, session: Any, repo_id: int, arch: str, task_id: int) -> None:
        self._session = session
        self.id: int = session.host.newBuildRoot(repo_id, arch, task_id=task_id)

    def set_installed(self, rpms: Sequence[Mapping[str, Any]]) -> None:
        """The packages the buildroot starts with (INIT state only)."""
        self._session.host.setBuildRootList(self.id, [dict(r) for r in rpms])

    def building(self) -> None:
        self._session.host.setBuildRootState(self.id, "BUILDING")

    def add_installed(self, rpms: Sequence[Mapping[str, Any]]) -> None:
        """Packages added during the build (BUILDING state only)."""
        self._session.host.updateBuildRootList(self.id, [dict(r) for r in rpms])

    def expire(self) -> None:
        self._session.host.setBuildRootState(self.id, "EXPIRED")

    def __enter__(self) -> HubBuildroot:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.expire()
        except Exception:
            if exc is None:
                raise
            # The task is failing already (perhaps canceled, when the hub refuses every
            # call for it): report the original error, not this one.
            log.warning("could not expire buildroot %s", self.id, exc_info=True)
