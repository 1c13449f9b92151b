"""The mails of the notification tasks, composed from hub data, and their sending.

``buildNotification`` tells how a build ended, with its tasks' hosts, logs and rpms;
``tagNotification`` tells of a tag operation. Both carry the ``X-Koji-*`` headers kojid's
mails carry, which sites filter on. Sending goes through ``smtphost`` (``host[:port]``),
logging in when ``smtp_user`` and ``smtp_pass`` are both set.
"""

from __future__ import annotations

import email.policy
import email.utils
import logging
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import koji

log = logging.getLogger(__name__)

#: How long the SMTP server may take to answer before the task fails.
SMTP_TIMEOUT = 60.0
#: CRLF lines; headers are not folded at 78 columns (a subject folded at its start would
#: arrive with a leading space), only at SMTP's 998.
_POLICY = email.policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class TaskReport:
    """One task of a build, as the build mail lists it."""

    id: int
    method: str
    label: str  # koji.taskLabel: method and arch, e.g. "buildArch (foo-1-1.src.rpm, noarch)"
    arch: str
    build_arch: str
    state: str  # lower-case TASK_STATES name
    host: str | None
    result: str
    logs: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (file, volume)
    rpms: Sequence[str] = field(default_factory=tuple)
    srpms: Sequence[str] = field(default_factory=tuple)
    misc: Sequence[tuple[str, str]] = field(default_factory=tuple)


def build_mail(*, build: Mapping[str, Any], dest_tag: str | None, weburl: str, topurl: str,
               tasks: Mapping[int, TaskReport], changelog: str, canceler: str | None,
               from_addr: str, recipients: Sequence[str]) -> EmailMessage:
    """The mail of ``buildNotification`` for ``build`` (a getBuild dict); ``tasks`` holds
    the build task and its descendants by id, ``changelog`` the formatted latest entries."""
    nvr = koji.buildLabel(build)
    status = koji.BUILD_STATES[build["state"]].lower()
    owner = build["owner_name"]
    root = tasks.get(build["task_id"]) if build.get("task_id") else None
    lines = [f"Package: {nvr}", f"Tag: {dest_tag}", f"Status: {status}"]
    if build["state"] == koji.BUILD_STATES["CANCELED"] and canceler:
        lines.append(f"Canceled by: {canceler}")
    lines += [f"Built by: {owner}", f"ID: {build['id']}",
              f"Started: {koji.formatTimeLong(build['creation_ts'])}",
              f"Finished: {koji.formatTimeLong(build['completion_ts'])}", ""]
    if changelog:
        lines += ["Changelog:", changelog.rstrip("\n"), ""]
    if build["state"] == koji.BUILD_STATES["FAILED"] and root is not None:
        failed_on = ", ".join(sorted({f"{t.host} ({t.arch})" for t in tasks.values()
                                      if t.host and t.state == "failed"}))
        lines += [f"{nvr} ({build['id']}) failed on {failed_on or 'no host'}:",
                  f"  {root.result}", ""]
    srpms = sorted({s for t in tasks.values() for s in t.srpms})
    if srpms:
        lines += ["SRPMS:", *(f"  {s}" for s in srpms), ""]
    buildurl = koji.PathInfo(topdir=topurl).build(build)
    complete = build["state"] == koji.BUILD_STATES["COMPLETE"]
    for state in ("failed", "canceled", "closed"):
        in_state = [t for t in tasks.values() if t.state == state]
        if in_state:
            lines += [f"{state.capitalize()} tasks:", "-" * (len(state) + 7), ""]
            lines += [line for t in in_state for line in
                      _task_lines(t, weburl, buildurl, complete and state == "closed")]
    lines += [f"Task Info: {weburl}/taskinfo?taskID={build['task_id']}",
              f"Build Info: {weburl}/buildinfo?buildID={build['id']}"]
    message = _message(from_addr, recipients,
                       f"Package: {nvr} Tag: {dest_tag} Status: {status} Built by: {owner}",
                       lines)
    message["X-Koji-Tag"] = str(dest_tag)
    message["X-Koji-Package"] = build["package_name"]
    message["X-Koji-Builder"] = owner
    message["X-Koji-Status"] = status
    message["X-Koji-Draft"] = str(bool(build.get("draft", False)))
    return message


def _task_lines(task: TaskReport, weburl: str, buildurl: str, imported: bool) -> list[str]:
    """A task's paragraph: host, type, logs, rpms. An imported build holds its rpms under
    their own arch, and the logs of its buildArch tasks (only those are imported) under
    the task's arch: ``imported`` links those there; everything else through the task."""
    lines = [f"Task {task.id}" + (f" on {task.host}" if task.host else ""),
             f"Task Type: {task.label}"]
    in_build_dir = imported and task.method == "buildArch"
    if task.logs:
        lines.append("logs:")
        for name, volume in task.logs:
            lines.append(f" {buildurl}/data/logs/{task.build_arch}/{name}" if in_build_dir
                         else f" {weburl}/getfile?taskID={task.id}&name={name}"
                              f"&volume={volume}")
    if task.rpms:
        lines.append("rpms:")
        for name in task.rpms:
            lines.append(f" {buildurl}/{koji.parse_NVRA(name)['arch']}/{name}" if imported
                         else f" {weburl}/getfile?taskID={task.id}&name={name}&volume=DEFAULT")
    if task.misc:
        lines += ["misc:", *(f" {weburl}/getfile?taskID={task.id}&name={name}&volume={vol}"
                             for name, vol in task.misc)]
    return [*lines, ""]


def tag_mail(*, build: Mapping[str, Any], user_name: str, tag: str | None,
             from_tag: str | None, successful: bool, failure_msg: str, from_addr: str,
             recipients: Sequence[str]) -> EmailMessage:
    """The mail of ``tagNotification``: ``build`` tagged into ``tag``, untagged from
    ``from_tag``, or moved (both), successfully or with ``failure_msg``."""
    nvr = koji.buildLabel(build)
    action = "moved" if tag and from_tag else "tagged" if tag else "untagged"
    operation = action + (f" from {from_tag}" if from_tag else "") + \
        (f" into {tag}" if tag else "")
    result, status = ("successfully", "complete") if successful else \
        ("unsuccessfully", "failed")
    lines = [f"Package: {build['package_name']}", f"NVR: {nvr}", f"User: {user_name}",
             f"Status: {status}", f"Tag Operation: {action}"]
    if from_tag:
        lines.append(f"From Tag: {from_tag}")
    if tag:
        lines.append(f"Into Tag: {tag}")
    lines += ["", f"{nvr} {result} {operation} by {user_name}"]
    if not successful:
        lines += ["Operation failed with the error:", f"    {failure_msg}"]
    message = _message(from_addr, recipients, f"{nvr} {result} {operation} by {user_name}",
                       lines)
    message["X-Koji-Package"] = build["package_name"]
    message["X-Koji-NVR"] = nvr
    message["X-Koji-Draft"] = str(bool(build.get("draft", False)))
    message["X-Koji-User"] = user_name
    message["X-Koji-Status"] = status
    for name in (from_tag, tag):
        if name:
            message["X-Koji-Tag"] = name
    return message


def _message(from_addr: str, recipients: Sequence[str], subject: str,
             lines: Sequence[str]) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    message["From"] = from_addr
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    # Relays add neither for mail from remote clients; receivers distrust mail without.
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain=_domain(from_addr))
    message.set_content("\n".join(lines) + "\n")
    return message


def _domain(from_addr: str) -> str | None:
    """The domain of the sender's address, for Message-IDs (None: the local host name)."""
    address = email.utils.parseaddr(from_addr)[1]
    return address.rpartition("@")[2] or None


def send(options: Any, message: EmailMessage, recipients: Sequence[str]) -> str:
    """Send ``message`` to ``recipients`` through ``options.smtphost``; a GenericError
    naming the server and what went wrong when it cannot be sent.

    Returns the task's result text: ``to: <recipients>``, and the recipients the server
    refused when it took the mail for the others.
    """
    try:
        smtp = smtplib.SMTP(options.smtphost, timeout=SMTP_TIMEOUT)
    except (smtplib.SMTPException, OSError) as exc:
        raise _unsent(options, exc) from exc
    try:
        if options.smtp_user is not None and options.smtp_pass is not None:
            smtp.login(options.smtp_user, options.smtp_pass)
        # Not send_message: its generator escapes body lines starting "From " (mbox).
        sender = email.utils.parseaddr(str(message["From"]))[1]
        refused = smtp.sendmail(sender, list(recipients), message.as_bytes())
    except (smtplib.SMTPException, OSError) as exc:
        raise _unsent(options, exc) from exc
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):  # the mail is the server's by now
            smtp.close()
    text = f"to: {', '.join(recipients)}"
    if refused:
        log.warning("smtphost %s refused %s", options.smtphost, ", ".join(sorted(refused)))
        text += f" (refused by the server: {', '.join(sorted(refused))})"
    return text


def _unsent(options: Any, exc: BaseException) -> koji.GenericError:
    return koji.GenericError(f"could not send the notification through smtphost "
                             f"{options.smtphost!r}: {type(exc).__name__}: {exc}")
