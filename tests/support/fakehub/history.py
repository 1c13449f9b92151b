"""Read access for tests to the state transitions the hub recorded."""

from .core import HubCore
from .state import Transition


class HubHistory:
    """State transitions of tasks, buildroots, builds and repos, oldest first.

    Only committed transitions appear: those of a call that faulted were rolled back. The
    first entry of an object is its creation (``old`` None). Example::

        assert hub.history.task_states(task_id) == ["FREE", "ASSIGNED", "OPEN", "CLOSED"]
    """

    def __init__(self, core: HubCore) -> None:
        self._core = core

    def transitions(self, kind: str | None = None, obj_id: int | None = None) -> list[Transition]:
        """Recorded transitions, filtered by ``kind`` ("task", "buildroot", "build",
        "repo") and object id."""
        with self._core.lock:
            return [
                t for t in self._core.db.transitions
                if (kind is None or t.kind == kind) and (obj_id is None or t.obj_id == obj_id)
            ]

    def states(self, kind: str, obj_id: int) -> list[str]:
        """The sequence of states an object went through, starting with its first."""
        return [t.new for t in self.transitions(kind, obj_id)]

    def task_states(self, task_id: int) -> list[str]:
        return self.states("task", task_id)

    def buildroot_states(self, buildroot_id: int) -> list[str]:
        return self.states("buildroot", buildroot_id)

    def build_states(self, build_id: int) -> list[str]:
        return self.states("build", build_id)

    def repo_states(self, repo_id: int) -> list[str]:
        return self.states("repo", repo_id)
