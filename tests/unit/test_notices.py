"""The notification mails' composition (sending is shown end to end in tests/e2e)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import koji

from adjutant.worker.notices import TaskReport, build_mail, tag_mail

WEB = "https://koji.example/koji"
FILES = "https://koji.example/kojifiles"


def _build(state: str) -> dict[str, Any]:
    return {"id": 4, "name": "tool-user", "version": "1.0", "release": "1", "epoch": None,
            "state": koji.BUILD_STATES[state], "owner_name": "kojiuser",
            "package_name": "tool-user", "task_id": 1, "creation_ts": 1795690000.0,
            "completion_ts": 1795690100.0}


TASKS = {
    1: TaskReport(1, "build", "build (f-target, tool-user-1.0-1.src.rpm)", "noarch", "",
                  "failed", "builder1", "BuildError: buildArch failed"),
    3: TaskReport(3, "buildArch", "buildArch (tool-user-1.0-1.src.rpm, x86_64)", "x86_64",
                  "x86_64", "failed", "builder1", "BuildError: %build failed",
                  logs=(("build.log", "DEFAULT"),),
                  rpms=("tool-user-1.0-1.x86_64.rpm", "tool-user-doc-1.0-1.noarch.rpm")),
    2: TaskReport(2, "rebuildSRPM", "rebuildSRPM (noarch)", "noarch", "srpm", "closed",
                  "builder2", "ok", logs=(("build.log", "DEFAULT"),),
                  srpms=("tool-user-1.0-1.src.rpm",)),
}


def _body(state: str, tasks: dict[int, TaskReport] = TASKS) -> str:
    mail = build_mail(build=_build(state), dest_tag="f-dest", weburl=WEB, topurl=FILES,
                      tasks=tasks, changelog="", canceler="alice", from_addr="k@x",
                      recipients=["a@b"])
    return str(mail.get_content()).replace("\r\n", "\n")


def test_a_failed_build_names_its_failing_hosts_and_links_logs_through_the_tasks() -> None:
    body = _body("FAILED")
    assert "tool-user-1.0-1 (4) failed on builder1 (noarch), builder1 (x86_64):\n" \
        "  BuildError: buildArch failed" in body
    assert "Failed tasks:\n-------------\n\nTask 1 on builder1\n" in body
    # Nothing was imported for a failed build: every log is linked through its task.
    assert f" {WEB}/getfile?taskID=2&name=build.log&volume=DEFAULT" in body
    assert "Canceled by" not in body and "SRPMS:\n  tool-user-1.0-1.src.rpm\n" in body


def test_a_complete_build_links_imported_files_in_the_build_dir() -> None:
    body = _body("COMPLETE", {i: replace(t, state="closed") for i, t in TASKS.items()})
    assert f" {FILES}/packages/tool-user/1.0/1/data/logs/x86_64/build.log" in body
    # The hub imports only buildArch logs; the SRPM task's stay with the task.
    assert f" {WEB}/getfile?taskID=2&name=build.log&volume=DEFAULT" in body
    # Rpms lie under their own arch, whatever the task's.
    assert f" {FILES}/packages/tool-user/1.0/1/x86_64/tool-user-1.0-1.x86_64.rpm" in body
    assert f" {FILES}/packages/tool-user/1.0/1/noarch/tool-user-doc-1.0-1.noarch.rpm" in body
    assert "failed on" not in body


def test_mails_carry_a_date_and_a_message_id_of_the_senders_domain() -> None:
    mail = build_mail(build=_build("COMPLETE"), dest_tag=None, weburl=WEB, topurl=FILES,
                      tasks={}, changelog="", canceler=None,
                      from_addr="Koji <koji@build.example>", recipients=["a@b"])
    assert mail["Date"] and str(mail["Message-ID"]).endswith("@build.example>")


def test_a_cancelled_build_says_who_cancelled_it() -> None:
    assert "Status: canceled\nCanceled by: alice\n" in _body("CANCELED")


def test_tag_mails_name_the_operation() -> None:
    build = _build("COMPLETE")

    def subject(tag: str | None, from_tag: str | None, ok: bool) -> str:
        return str(tag_mail(build=build, user_name="bob", tag=tag, from_tag=from_tag,
                            successful=ok, failure_msg="no", from_addr="k@x",
                            recipients=["a@b"])["Subject"])

    assert subject("f-dest", None, True) == "tool-user-1.0-1 successfully tagged into f-dest by bob"
    assert subject(None, "f-old", True) == "tool-user-1.0-1 successfully untagged from f-old by bob"
    assert subject("f-dest", "f-old", False) == \
        "tool-user-1.0-1 unsuccessfully moved from f-old into f-dest by bob"
