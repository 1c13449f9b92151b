"""The worker's own log, as kojid keeps it.

- A log file (kojid's ``/var/log/kojid.log``, or ``--logfile``) when not in the
  foreground; with ``--fg``, standard error (the service manager's journal) instead.
- Levels as kojid sets them: ``log_level`` from kojid.conf, else WARNING; ``--verbose``
  INFO; ``--debug`` DEBUG; ``--debug-task`` DEBUG for task handlers only.
- ``admin_emails``: errors mailed to those addresses, as kojid's mail logger does.
- Every line written while a task runs names the task (``task=<id>``), in the daemon and
  in the task's own process, koji's library lines included.
"""

from __future__ import annotations

import logging
import logging.handlers
from dataclasses import dataclass
from pathlib import Path

#: Loggers the worker's lines come from: adjutant's own and koji's library.
ROOT_LOGGERS = ("adjutant", "koji")
DEFAULT_LOGFILE = Path("/var/log/kojid.log")
FORMAT = "%(asctime)s [%(levelname)s] {%(process)d} %(task)s%(name)s: %(message)s"

_current_task: int | None = None


def set_task(task_id: int | None) -> None:
    """Name ``task_id`` on every line this process logs from now on (None: no task)."""
    global _current_task
    _current_task = task_id


class _TaskField(logging.Filter):
    """Adds ``%(task)s``: ``task=<id> `` while a task runs in this process, else empty."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.task = f"task={_current_task} " if _current_task is not None else ""
        return True


@dataclass(frozen=True)
class LogSettings:
    """What decides where the worker logs and how much."""

    foreground: bool = False
    logfile: Path = DEFAULT_LOGFILE
    log_level: str | None = None
    verbose: bool = False
    debug: bool = False
    debug_task: bool = False
    admin_emails: str | None = None


def level_of(settings: LogSettings) -> int:
    """kojid's order: --debug, else --verbose, else log_level, else WARNING."""
    if settings.debug:
        return logging.DEBUG
    if settings.verbose:
        return logging.INFO
    if settings.log_level:
        level = logging.getLevelName(settings.log_level.upper())
        if isinstance(level, int):
            return level
    return logging.WARNING


def configure(settings: LogSettings) -> list[logging.Handler]:
    """Install the worker's handlers on the adjutant and koji loggers; returns them.

    Raises OSError when the log file cannot be opened (the caller says so and exits):
    a worker that cannot write its log is not silently left without one.
    """
    handlers: list[logging.Handler] = []
    if settings.foreground:
        handlers.append(logging.StreamHandler())
    else:
        settings.logfile.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.WatchedFileHandler(settings.logfile))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(_TaskField())
    if settings.admin_emails:
        handlers.append(_mail_handler(settings.admin_emails))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    level = level_of(settings)
    for name in ROOT_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = False
        for existing in list(logger.handlers):
            logger.removeHandler(existing)
        for handler in handlers:
            logger.addHandler(handler)
    if settings.debug_task:
        for name in ("adjutant.worker.handlers", "koji.build.BaseTaskHandler"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    return handlers


def _mail_handler(addresses: str) -> logging.Handler:
    """Errors to ``addresses`` (comma-separated) through the local MTA, as kojid does."""
    import getpass
    import socket

    fqdn = socket.getfqdn()
    handler = logging.handlers.SMTPHandler(
        "localhost", f"{getpass.getuser()}@{fqdn}",
        [a.strip() for a in addresses.split(",") if a.strip()], f"{fqdn}: error notice")
    handler.setLevel(logging.ERROR)
    handler.setFormatter(logging.Formatter(
        "%(pathname)s:%(lineno)d [%(levelname)s] %(message)s"))
    handler.addFilter(_TaskField())
    return handler
