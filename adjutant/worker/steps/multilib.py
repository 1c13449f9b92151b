"""The multilib step of a 64-bit dist repo (``koji dist-repo --multilib CONFIG``).

As kojid's ``do_multilib``: each package of the 64-bit repo that the devel multilib
method selects (:mod:`adjutant.worker.multilib`) wants its 32-bit counterpart from the
32-bit arch's part of the same dist repo (made and moved into place first by the
parent); dnf resolves what those counterparts need from that part, and every package of
that install set joins the repo (``_multilib`` in ``kojipkgs``). A counterpart or
dependency that is not on the hub's disk fails the task, all of them listed in
``missing_multilib.log``; an unresolvable set fails it with dnf's reason in
``multilib.log``.

The resolution runs in the task's image (python3 with dnf's bindings), with topdir
read-only and as the build user; its answer is a file the container wrote, so it is read
without following links and a name in it counts only if the 32-bit part lists it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import koji

from adjutant.build.rpmbuild import BUILD_USER
from adjutant.container.spec import Mount
from adjutant.container.untrusted import UnsafeFile, UntrustedDir
from adjutant.logs.fanout import TaskLog
from adjutant.rpm.header import RpmHeaderError, read_rpm
from adjutant.worker.context import TaskContext
from adjutant.worker.distrepo import MULTILIB
from adjutant.worker.multilib import (
    MultilibConfig,
    MultilibConfigError,
    config_path,
    devel_selects,
)
from adjutant.worker.scripts import staged_script
from adjutant.worker.steps.containers import container_spec, run_in_container
from adjutant.worker.steps.image import TaskImage

SCRIPT = "/adjutant/multilib-depsolve.py"
_IO = "/adjutant/multilib"
_RESULT_LIMIT = 16 << 20


def _counterpart(row: dict[str, Any], ml_arch: str) -> str:
    """The 32-bit file name of a 64-bit repo's rpm (a noarch rpm is its own)."""
    arch = "noarch" if row["arch"] == "noarch" else ml_arch
    return f"{row['name']}-{row['version']}-{row['release']}.{arch}.rpm"


def _ml_packages(mldir: Path, ml_arch: str) -> dict[str, dict[str, Any]]:
    path = mldir / "kojipkgs"
    if not path.is_file() or path.is_symlink():
        raise koji.GenericError(
            f"multilib needs the {ml_arch} part of this dist repo, and {path} is missing: "
            f"include {ml_arch} in the dist repo's arches (koji dist-repo --arch {ml_arch})")
    packages: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return packages


def _selected(config: MultilibConfig, kojipkgs: dict[str, dict[str, Any]], ml_arch: str,
              log: TaskLog) -> list[str]:
    """The 32-bit file names the repo's packages want (the devel method)."""
    wanted = []
    for name, row in sorted(kojipkgs.items()):
        try:
            info = read_rpm(Path(row["_pkgpath"]))
        except (OSError, RpmHeaderError) as exc:
            raise koji.GenericError(f"multilib: cannot read {row['_pkgpath']}: {exc}") \
                from None
        if devel_selects(config, info):
            counterpart = _counterpart(row, ml_arch)
            log.line(f"{name}: multilib, wants {counterpart}")
            wanted.append(counterpart)
    return wanted


def _depsolve(ctx: TaskContext, image: TaskImage, mldir: Path, arch: str,
              install: list[dict[str, Any]], log: TaskLog) -> list[str]:
    """The file names of the install set dnf resolves for ``install`` from ``mldir``."""
    io_dir = ctx.subdir("multilib", build_user=True)
    (io_dir / "request.json").write_text(json.dumps({
        "repo": str(mldir), "arch": arch,
        "install": [[r["name"], r["epoch"], r["version"], r["release"], r["arch"]]
                    for r in install]}))
    topdir = Path(ctx.settings.topdir)
    spec = container_spec(
        ctx, image.image_id,
        ("python3", SCRIPT, f"{_IO}/request.json", f"{_IO}/result.json"), user=BUILD_USER,
        mounts=(Mount(topdir, str(topdir)),
                Mount(staged_script(ctx.workdir, "multilib-depsolve.py"), SCRIPT),
                Mount(io_dir, _IO, writable=True)),
        timeout=float(ctx.settings.rpmbuild_timeout))
    log.line(f"Resolving multilib for {arch} from {mldir}")
    result = run_in_container(ctx, spec, log.write_output)
    try:
        answer = json.loads(UntrustedDir(io_dir, log.line).read_text("result.json",
                                                                      _RESULT_LIMIT))
    except (UnsafeFile, ValueError) as exc:
        raise koji.GenericError(f"multilib resolution for {arch} gave no answer (exit "
                                f"{result.exit_code}: {exc}); see multilib.log") from None
    if not isinstance(answer, dict):
        raise koji.GenericError("multilib resolution gave a malformed answer; see "
                                "multilib.log")
    if answer.get("error"):
        log.line(f"dnf depsolve was unsuccessful: {answer['error']}")
        raise koji.GenericError(f"multilib packages for {arch} cannot be resolved: "
                                f"{answer['error']}")
    files = answer.get("install")
    if not result.ok or not isinstance(files, list) \
            or not all(isinstance(f, str) for f in files):
        raise koji.GenericError(f"multilib resolution for {arch} failed (exit "
                                f"{result.exit_code}); see multilib.log")
    log.line("dnf depsolve successfully finished")
    return files


def add_multilib(ctx: TaskContext, image: TaskImage, arch: str,
                 kojipkgs: dict[str, dict[str, Any]], hubrepo: Path, conf: str) -> None:
    """Add the 32-bit packages ``arch``'s dist repo carries to ``kojipkgs`` (see module
    doc). ``hubrepo`` is the dist repo's directory on topdir, ``conf`` the task's
    ``multilib`` option (the config's path under the hub's work dir)."""
    ml_arch = MULTILIB[arch]
    mldir = hubrepo / koji.canonArch(ml_arch)
    try:
        path = config_path(Path(ctx.settings.topdir) / "work", conf)
        config = MultilibConfig.parse(path.read_text(errors="replace"), conf)
    except MultilibConfigError as exc:
        raise koji.GenericError(str(exc)) from None
    ml_pkgs = _ml_packages(mldir, ml_arch)
    missing: set[str] = set()
    with ctx.logs.open("multilib.log") as log:
        log.line(f"Selecting multilib packages for {arch} with method devel ({conf})")
        wanted = []
        for name in _selected(config, kojipkgs, ml_arch, log):
            if name in ml_pkgs:
                wanted.append(ml_pkgs[name])
            else:
                missing.add(str(mldir / "Packages" / name[0].lower() / name))
        needed = _depsolve(ctx, image, mldir, arch, wanted, log) if wanted else []
        for name in needed:
            pkgpath = mldir / "Packages" / name[:1].lower() / name
            if name not in ml_pkgs or "/" in name or not pkgpath.is_file():
                missing.add(str(pkgpath))
                continue
            if name in kojipkgs:
                if ml_pkgs[name]["arch"] != "noarch":
                    log.line(f"Multilib duplicate: {name}")
                continue
            kojipkgs[name] = dict(ml_pkgs[name], _pkgpath=str(pkgpath), _multilib=True)
            log.line(f"added {name}")
    if missing:
        with ctx.logs.open("missing_multilib.log") as log:
            log.line("The following multilib files were missing:")
            for path_text in sorted(missing):
                log.line(path_text)
        raise koji.GenericError("multilib packages missing. See missing_multilib.log")
