"""The rpmbuild invocation every build uses, and how its failures are explained.

Builds run as an unprivileged user with the network off and only ``BUILDDIR`` writable.
Output lands flat (kojid's ``%_rpmfilename``): ``RPMS/<n-v-r.a>.rpm`` and ``SRPMS/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

BUILDDIR = "/builddir"
INPUTDIR = "/input"
BUILD_USER = "1000:1000"

#: Macros every build gets, whatever the image's own configuration says.
BASE_MACROS: Mapping[str, str] = {
    "_topdir": BUILDDIR,
    "_builddir": f"{BUILDDIR}/BUILD",
    "_rpmdir": f"{BUILDDIR}/RPMS",
    "_srcrpmdir": f"{BUILDDIR}/SRPMS",
    "_specdir": f"{BUILDDIR}/SPECS",
    "_buildrootdir": f"{BUILDDIR}/BUILDROOT",
    "_tmppath": f"{BUILDDIR}/tmp",
    "_rpmfilename": "%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
}

#: Environment for the build: a neutral locale and a home inside the writable dir.
BUILD_ENV: Mapping[str, str] = {
    "HOME": f"{BUILDDIR}/tmp",
    "LANG": "C.UTF-8",
    "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
}

# The wrapper creates the output dirs then execs rpmbuild with its arguments unchanged:
# task parameters only ever reach rpmbuild as separate arguments, never through a shell.
_WRAPPER = 'mkdir -p "$0/BUILD" "$0/RPMS" "$0/SRPMS" "$0/tmp" && exec "$@"'


def rpmbuild_command(
    mode: str,
    path: str,
    *,
    target_arch: str | None = None,
    macros: Mapping[str, str] | None = None,
    sourcedir: str | None = None,
    extra_args: Sequence[str] = (),
) -> tuple[str, ...]:
    """The container command for one rpmbuild run.

    ``mode`` is ``rebuild`` (binary RPMs from an SRPM), ``ra`` (binary RPMs and a fresh SRPM
    from an SRPM), ``rs`` (a fresh SRPM from an SRPM), ``ba`` (SRPM and RPMs from a spec) or
    ``bs`` (an SRPM from a spec). ``macros`` are added after the base macros and win;
    ``extra_args`` (e.g. ``--nodeps``) go before the input path.
    """
    flag = {"rebuild": "--rebuild", "ra": "-ra", "rs": "-rs", "ba": "-ba", "bs": "-bs"}[mode]
    defines = dict(BASE_MACROS)
    if sourcedir:
        defines["_sourcedir"] = sourcedir
    defines.update(macros or {})
    args = ["rpmbuild", flag]
    for name, value in defines.items():
        args += ["--define", f"{name} {value}"]
    if target_arch:
        args += ["--target", target_arch]
    args += [*extra_args, path]
    return ("sh", "-c", _WRAPPER, BUILDDIR, *args)


def parse_defines(values: Sequence[str]) -> dict[str, str]:
    """``NAME VALUE`` strings (as for ``rpmbuild --define``) to a dict; ValueError if bad."""
    result = {}
    for value in values:
        name, _, body = value.strip().partition(" ")
        name = name.lstrip("%")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or not body.strip():
            raise ValueError(f"--define {value!r}: expected 'NAME VALUE', e.g. 'dist .el9'")
        result[name] = body.strip()
    return result


@dataclass(frozen=True)
class BuildFailure:
    """Why an rpmbuild run failed, in words a packager can act on."""

    step: str
    summary: str
    tail: str

    def message(self) -> str:
        return f"{self.summary}\n--- last lines of build.log ---\n{self.tail}"


# Without its "error: " prefix: stdout can land between the prefix and the message in a
# log that interleaves both streams; rpmbuild repeats it under "RPM build errors:" too.
_BAD_EXIT = re.compile(r"Bad exit status from \S+ \((%\w+)\)")
_ERROR = re.compile(r"^error: (\S.*)$", re.MULTILINE)
#: What a write that hit a full file system (ENOSPC) prints, from any tool in the build.
_NO_SPACE = re.compile(r"No space left on device", re.IGNORECASE)


def ran_out_of_space(log_text: str) -> bool:
    """Whether a build's log shows a write that failed because its disk was full."""
    return _NO_SPACE.search(log_text) is not None


def explain_failure(log_text: str, exit_code: int, timed_out: bool, tail_lines: int = 20,
                    timeout: float | None = None, *, oom_killed: bool = False,
                    memory_limit: int | str | None = None,
                    memory_option: str = "container_memory") -> BuildFailure:
    """Name the failing step from rpmbuild's output and keep the log's last lines.

    ``oom_killed`` is the kernel's record (``RunResult.oom_killed``) that a process of the
    build was killed at the memory limit: the step is then ``memory`` and the summary
    names the setting, ``memory_option = memory_limit`` as the user gave it, whatever
    rpmbuild printed after losing its child.
    """
    tail = "\n".join(log_text.rstrip("\n").splitlines()[-tail_lines:])
    if timed_out:
        return BuildFailure("timeout", f"rpmbuild was killed after the {timeout}s build "
                            "timeout (rpmbuild_timeout)", tail)
    if oom_killed:
        limit = "its memory limit" if memory_limit is None \
            else f"{memory_option} = {memory_limit}"
        return BuildFailure("memory", f"out of memory: the build exceeded {limit}", tail)
    if ran_out_of_space(log_text):
        # The cause, whichever step it broke: "disk" tells the worker to add the figures.
        return BuildFailure("disk", "no space left on device: the build filled the file "
                            "system of its build directory", tail)
    bad = _BAD_EXIT.findall(log_text)
    if bad:
        step = bad[-1]
        return BuildFailure(step, f"rpmbuild failed in {step} (exit status {exit_code})", tail)
    errors = _ERROR.findall(log_text)
    if errors:
        return BuildFailure("rpmbuild", f"rpmbuild failed: {errors[-1]}", tail)
    return BuildFailure("rpmbuild", f"rpmbuild exited with status {exit_code}", tail)
