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


def test_an_oom_kill_names_the_memory_limit_whatever_rpmbuild_said() -> None:
    failure = explain_failure("Executing(%build)\n" + TAIL, 1, False, oom_killed=True,
                              memory_limit=33554432)
    assert failure.step == "memory"
    assert failure.summary == "out of memory: the build exceeded container_memory = 33554432"
    local = explain_failure(TAIL, 1, False, oom_killed=True, memory_limit="64M",
                            memory_option="--memory")
    assert local.summary == "out of memory: the build exceeded --memory = 64M"
    assert explain_failure(TAIL, 1, False, oom_killed=False, memory_limit=1).step == "%build"
