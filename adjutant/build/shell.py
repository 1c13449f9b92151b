"""``adjutant shell``: an interactive shell in a kept buildroot, as the build user, with
the build directory mounted where the build had it.

The container is made and removed through the runtime plugin (so it carries the
managed labels, no capabilities, no network, the build user); only the terminal session
goes through the engine's own command line: ``podman exec -it`` / ``docker exec -it``.
Neither SDK gives a usable terminal: podman-py's ``exec_run`` cannot hijack stdin over
the libpod API, and relaying a socket by hand would mean redoing what the CLIs already
do right (raw mode, window resizes, detach keys, signals). The CLI gets an argument
list, never a shell string, and talks to the same service as the plugin (``--url`` /
``-H``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from adjutant.build.local import LOCAL_LABEL
from adjutant.build.rpmbuild import BUILD_ENV, BUILD_USER, BUILDDIR
from adjutant.build.termination import unwinding_on_termination
from adjutant.container.runtime import ContainerRuntime
from adjutant.container.spec import ContainerSpec, Mount

SHELL_LABEL = "io.koji-adjutant.shell"
#: The login shell of the session: bash where the image has it.
_SHELL = "if command -v bash >/dev/null 2>&1; then exec bash -i; else exec sh -i; fi"


class ShellError(Exception):
    """The shell cannot be opened; the message says why and what to do."""


def engine_cli(runtime: ContainerRuntime) -> list[str]:
    """The engine's command line, pointed at the service the runtime plugin uses."""
    url = str(getattr(runtime, "url", "") or "")
    if runtime.name == "podman":
        program = shutil.which("podman")
        return [program, "--remote", "--url", url] if program and url else \
            _missing("podman")
    if runtime.name == "docker":
        program = shutil.which("docker")
        return [program, "-H", url] if program and url else _missing("docker")
    raise ShellError(f"adjutant shell drives the podman or docker command line; the "
                     f"{runtime.name} runtime has none it knows")


def _missing(name: str) -> list[str]:
    raise ShellError(f"adjutant shell needs the {name} command (install the {name} "
                     "package) and the runtime's service URL")


def shell_spec(image: str, builddir: Path, environment: Mapping[str, str] | None = None) \
        -> ContainerSpec:
    """The shell's container: the buildroot image, idle until the session execs in."""
    return ContainerSpec(
        image=image, command=("sleep", "infinity"), user=BUILD_USER, workdir=BUILDDIR,
        environment={**BUILD_ENV, **(environment or {})},
        mounts=(Mount(builddir, BUILDDIR, writable=True),), network=False,
        labels={LOCAL_LABEL: "true", SHELL_LABEL: "true"})


def open_shell(runtime: ContainerRuntime, image: str, builddir: Path,
               environment: Mapping[str, str] | None = None) -> int:
    """Run an interactive shell in ``image`` as the build user with ``builddir`` at
    ``/builddir``; the shell's exit status. The container is removed when it exits."""
    if not builddir.is_dir():
        raise ShellError(f"the build directory {builddir} is gone; build again with --keep")
    cli = engine_cli(runtime)
    spec = shell_spec(image, builddir, environment)
    container = runtime.create(spec)
    # A closed terminal (SIGHUP) or a kill (SIGTERM) still removes the container.
    with unwinding_on_termination():
        try:
            runtime.start(container)
            terminal = sys.stdin.isatty()
            argv = [*cli, "exec", "-it" if terminal else "-i", "--user", BUILD_USER,
                    "--workdir", BUILDDIR,
                    *(f"--env={k}={v}" for k, v in spec.environment.items()),
                    container, "sh", "-c", _SHELL]
            return subprocess.call(argv)
        finally:
            runtime.remove(container)
