"""tagNotification mails through a real SMTP server (buildNotification, which needs a
finished build, is in test_worker_build.py)."""

from __future__ import annotations

from collections.abc import Callable

import koji
import pytest

from tests.support.fakehub import FakeHub
from tests.support.kojisetup import wait_task
from tests.support.mailbox import Mailbox
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]
FROM = "Koji Build System <koji@build.example>"


def _worker(start_worker: StartWorker, mailbox: Mailbox) -> WorkerProcess:
    return start_worker(kojid={"smtphost": mailbox.smtphost, "from_addr": FROM})


def test_a_tag_operation_is_mailed_to_its_recipients(
        hub: FakeHub, mailbox: Mailbox, start_worker: StartWorker) -> None:
    tag_id = hub.add_tag("f-dest")
    old_id = hub.add_tag("f-candidate")
    build_id = hub.add_build("hello", "1.0", "1")
    user_id = hub.client().getUser("kojiuser")["id"]
    moved = hub.make_task("tagNotification", [["dev@example.com", "qa@example.com"], True,
                                              tag_id, old_id, build_id, user_id, False, ""])
    # The hub may pass names as well as ids (tagBuildBypass, untagBuild).
    failed = hub.make_task("tagNotification", [["dev@example.com"], False, "f-dest", None,
                                               "hello-1.0-1", "kojiuser", False,
                                               "ActionNotAllowed: tag policy says no"])
    worker = _worker(start_worker, mailbox)
    for task_id in (moved, failed):
        assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
    assert hub.task_result(moved) == \
        f"sent notification of tag operation {moved} to: dev@example.com, qa@example.com"
    by_subject = {m["Subject"]: (rcpt, m) for rcpt, m in mailbox.received}
    subject = "hello-1.0-1 successfully moved from f-candidate into f-dest by kojiuser"
    assert subject in by_subject, list(by_subject)
    rcpt, mail = by_subject[subject]
    assert rcpt == ["dev@example.com", "qa@example.com"]
    assert mail["From"] == FROM and mail["X-Koji-Status"] == "complete"
    assert mail.get_all("X-Koji-Tag") == ["f-candidate", "f-dest"]
    assert "Tag Operation: moved\r\nFrom Tag: f-candidate\r\nInto Tag: f-dest\r\n" in \
        mail.get_content()
    rcpt, mail = by_subject["hello-1.0-1 unsuccessfully tagged into f-dest by kojiuser"]
    assert mail["X-Koji-Status"] == "failed"
    assert "Operation failed with the error:\r\n    ActionNotAllowed: tag policy says no" \
        in mail.get_content()


def test_no_mail_without_recipients_or_for_an_ignored_success(
        hub: FakeHub, mailbox: Mailbox, start_worker: StartWorker) -> None:
    tag_id = hub.add_tag("f-dest")
    build_id = hub.add_build("hello", "1.0", "1")
    user_id = hub.client().getUser("kojiuser")["id"]
    nobody = hub.make_task("tagNotification",
                           [[], True, tag_id, None, build_id, user_id, False, ""])
    ignored = hub.make_task("tagNotification", [["dev@example.com"], True, tag_id, None,
                                                build_id, user_id, True, ""])
    worker = _worker(start_worker, mailbox)
    for task_id in (nobody, ignored):
        assert wait_task(hub, task_id)["state_name"] == "CLOSED", worker.log()[-3000:]
        assert hub.task_result(task_id) is None
    assert mailbox.received == []


def test_an_unreachable_smtp_server_fails_the_task_saying_so(
        hub: FakeHub, mailbox: Mailbox, start_worker: StartWorker) -> None:
    tag_id = hub.add_tag("f-dest")
    build_id = hub.add_build("hello", "1.0", "1")
    user_id = hub.client().getUser("kojiuser")["id"]
    task_id = hub.make_task("tagNotification", [["dev@example.com"], True, tag_id, None,
                                                build_id, user_id, False, ""])
    start_worker(kojid={"smtphost": "127.0.0.1:1", "from_addr": FROM})
    assert wait_task(hub, task_id)["state_name"] == "FAILED"
    with pytest.raises(koji.GenericError,
                       match=r"could not send the notification through smtphost "
                             r"'127\.0\.0\.1:1': ConnectionRefusedError"):
        hub.task_result(task_id)
