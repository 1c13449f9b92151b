"""Engine cleanup that need not hold up a task: it runs while the task reports.

Removing a finished container and releasing the task's image name take the engine
20-50 ms per task. Nothing the task does next needs them done: results are read from
bind-mounted host directories, and the hub calls that follow (the buildroot's listing and
state, the uploads) wait on the hub, not on the engine. So they run in one background
thread, in the order asked, and the task waits for all of them before it reports its
result: a task never closes with its containers still there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from adjutant.container.errors import ContainerError
from adjutant.worker.errors import build_error

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)


class DeferredCleanup:
    """A task's deferred engine cleanup. ``defer`` queues; ``finish`` waits for all.

    Contract: every action deferred before ``finish`` has ended when ``finish`` returns or
    raises; actions run one at a time, in the order deferred.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[tuple[str, Future[None]]] = []

    def defer(self, what: str, action: Callable[[], None]) -> None:
        """Queue ``action``; ``what`` says what it does ("remove container 1a2b...")."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # only where used

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="task-cleanup")
        self._pending.append((what, self._pool.submit(action)))

    def finish(self, raise_errors: bool = True) -> None:
        """Wait for every queued action. With ``raise_errors``, the first that failed
        raises koji's BuildError naming it (as a container that cannot be removed after
        a finished run always has); every other failure is logged. Interrupted (a signal
        ending the task), a later call waits for what is left."""
        failed: BaseException | None = None
        while self._pending:
            what, future = self._pending[0]
            try:
                future.result()
            except Exception as exc:
                if raise_errors and failed is None:
                    failed = build_error(f"container failure: could not {what}: {exc}")
                    failed.__cause__ = exc
                    if not isinstance(exc, ContainerError):
                        log.error("could not %s", what, exc_info=exc)
                else:
                    log.error("could not %s: %s", what, exc,
                              exc_info=None if isinstance(exc, ContainerError) else exc)
            del self._pending[0]
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if failed is not None:
            raise failed
