"""Naming the failing step from rpmbuild's output, however the streams interleaved."""

from __future__ import annotations

from adjutant.build.rpmbuild import explain_failure

TAIL = "RPM build errors:\n    Bad exit status from /builddir/tmp/rpm-tmp.x (%build)\n"


def test_the_step_is_named_from_rpmbuilds_error() -> None:
    log = "Executing(%build)\n+ exit 2\nerror: Bad exit status from /tmp/rpm-tmp.x (%build)\n"
    failure = explain_failure(log + TAIL, 1, False)
    assert failure.step == "%build"
    assert failure.summary == "rpmbuild failed in %build (exit status 1)"


def test_the_step_is_named_when_stdout_split_the_error_line() -> None:
    # "error: " reached the log, then a stdout chunk, then the rest of the message.
    log = "Executing(%install)\nerror: \n+ exit 1\nBad exit status from /tmp/rpm-tmp.y (%install)\n"
    assert explain_failure(log, 1, False).step == "%install"


def test_other_errors_and_timeouts() -> None:
    assert explain_failure("error: File not found: /x\n", 1, False).summary == \
        "rpmbuild failed: File not found: /x"
    timed_out = explain_failure("", -1, True, timeout=60)
    assert timed_out.step == "timeout" and "60" in timed_out.summary
    assert explain_failure("nothing useful\n", 9, False).summary == \
        "rpmbuild exited with status 9"
