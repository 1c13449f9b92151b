"""Whether this host can run another arch's binaries: qemu-user through binfmt_misc.

A container of a foreign platform runs because the kernel hands each of its binaries to
the qemu-user interpreter registered for that arch. Registered with the ``F``
(fix-binary) flag, the interpreter is opened once at registration, so it need not exist
inside the container; without ``F`` every container would need qemu in it. Both are
checked here, with the fix for each problem.
"""

from __future__ import annotations

from pathlib import Path

from adjutant.container.platforms import Platform, host_arch

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")

#: Arches a host of the key's arch runs natively, with no interpreter.
NATIVE_COMPAT = {"x86_64": frozenset({"i386"})}

INSTALL_FIX = ("install Debian's qemu-user-static and binfmt-support (apt-get install "
               "qemu-user-static binfmt-support), which register every qemu-user handler "
               "with the F flag")


def runs_natively(platform: Platform, host: str | None = None) -> bool:
    """True when this host's CPU runs ``platform``'s binaries itself."""
    host = host or host_arch()
    return platform.arch == host or platform.arch in NATIVE_COMPAT.get(host, ())


def handler_problem(platform: Platform, root: Path = BINFMT_DIR) -> str | None:
    """None when the host can run ``platform``'s binaries (natively, or through a
    qemu-user handler registered with the fix-binary flag); otherwise what is wrong,
    naming the arch, and how to fix it."""
    if runs_natively(platform):
        return None
    arch = platform.arch
    if not (root / "register").exists():
        return (f"{arch}: binfmt_misc is not mounted at {root}, so no foreign binary can "
                f"run; as root: mount -t binfmt_misc binfmt_misc {root}, then "
                f"{INSTALL_FIX}")
    status = root / "status"
    if status.exists() and status.read_text().strip() != "enabled":
        return f"{arch}: binfmt_misc is disabled on this host; as root: echo 1 > {status}"
    entry = root / f"qemu-{platform.qemu}"
    if not entry.exists():
        return (f"{arch}: no qemu-user handler is registered for it (no {entry}); "
                f"{INSTALL_FIX}")
    lines = entry.read_text().splitlines()
    if not lines or lines[0].strip() != "enabled":
        return (f"{arch}: the qemu-{platform.qemu} handler is registered but disabled; as "
                f"root: update-binfmts --enable qemu-{platform.qemu} (or echo 1 > {entry})")
    flags = next((line.split(":", 1)[1].strip() for line in lines
                  if line.startswith("flags:")), "")
    if "F" not in flags:
        return (f"{arch}: the qemu-{platform.qemu} handler lacks the F (fix-binary) flag, "
                f"so a container would need qemu inside it; {INSTALL_FIX} instead of the "
                "dynamic qemu-user package")
    return None
