"""The worker's own log as kojid keeps it: levels, the task id on each line, and errors
mailed to admin_emails through the local MTA (a real SMTP server on port 25 here)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adjutant.testing.engines import skip_or_fail
from adjutant.worker import logsetup
from adjutant.worker.logsetup import LogSettings, configure, level_of
from tests.support.mailbox import Mailbox


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    saved = {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers),
                    logging.getLogger(name).propagate) for name in logsetup.ROOT_LOGGERS}
    yield
    logsetup.set_task(None)
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(level)
        logger.propagate = propagate
        for handler in handlers:
            logger.addHandler(handler)


@pytest.mark.parametrize(("settings", "level"), [
    (LogSettings(), logging.WARNING),
    (LogSettings(log_level="ERROR"), logging.ERROR),
    (LogSettings(log_level="ERROR", verbose=True), logging.INFO),
    (LogSettings(log_level="ERROR", verbose=True, debug=True), logging.DEBUG),
])
def test_levels_follow_kojids_order(settings: LogSettings, level: int) -> None:
    assert level_of(settings) == level


def test_the_log_file_names_the_task_on_each_line_of_its_work(tmp_path: Path) -> None:
    logfile = tmp_path / "kojid.log"
    configure(LogSettings(logfile=logfile, log_level="INFO"))
    log = logging.getLogger("adjutant.worker.test")
    log.info("before")
    logsetup.set_task(42)
    log.info("during")
    logging.getLogger("koji.TaskManager").info("koji's own line")
    logsetup.set_task(None)
    log.debug("not at INFO")
    lines = logfile.read_text().splitlines()
    assert len(lines) == 3
    assert "task=" not in lines[0] and lines[0].endswith("adjutant.worker.test: before")
    assert "task=42 adjutant.worker.test: during" in lines[1]
    assert "task=42 koji.TaskManager: koji's own line" in lines[2]


def test_admin_emails_get_errors_through_the_local_mta() -> None:
    if os.geteuid() != 0:
        skip_or_fail("listening on port 25 needs root")
    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", 25)
    controller = Controller(box, hostname="127.0.0.1", port=25)
    try:
        controller.start()
    except OSError as exc:
        skip_or_fail(f"port 25 is taken here: {exc}")
    try:
        configure(LogSettings(foreground=True, admin_emails="ops@example.com, lead@example.com"))
        logging.getLogger("adjutant.worker").warning("a warning is not mailed")
        logsetup.set_task(7)
        logging.getLogger("adjutant.worker").error("the build host is on fire")
        deadline = time.monotonic() + 10
        while not box.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    [(recipients, message)] = box.received
    assert recipients == ["ops@example.com", "lead@example.com"]
    assert message["Subject"].endswith(": error notice")
    assert "the build host is on fire" in message.get_content()
