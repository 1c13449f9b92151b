"""``runroot(tagInfo, arch, command, keep=False, packages=[], mounts=[], repo_id=None,
skip_setarch=False, weight=None, upload_logs=None, new_chroot=None)``.

kojid's runroot as a container: a buildroot of the tag's repo (the ``build`` group and
``packages`` installed, listed on the hub), then ``/bin/sh -c COMMAND`` in it (a shell
command by design in koji; a list is quoted word by word, as kojid does). The mounts are
the runroot config's ``default_mounts`` and the task's ``mounts`` (see
:mod:`adjutant_runroot.config`), plus ``/builddir``, a fresh writable directory and the
working directory. The network is the config's ``[runroot] network`` (default none).

The command runs as root, as in kojid's ``mock --chroot``: runroot commands (compose
tools) expect to own the files they write. But it is root without privileges: every
capability is dropped except CHOWN, DAC_OVERRIDE and FOWNER (handling files as their
owner would, on the writable mounts only), and ``no-new-privileges`` is set; no device,
mount or network administration. Its output is ``runroot.log``, streamed to the hub; the
files named by ``upload_logs`` (under a mount, or relative to ``/builddir``) are uploaded
after, read without following any link. ``keep``, ``skip_setarch`` and ``new_chroot`` are
mock details with no meaning for a container (noted in the log).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import koji
import koji.tasks

from adjutant.plugin.tasks import (
    ContainerTaskHandler,
    HubBuildroot,
    Mount,
    UnsafeFile,
    UntrustedDir,
    choose_image,
    container_spec,
    prepared_buildroot,
    run_in_container,
    upload,
)
from adjutant.plugin.tasks import upload_logs as upload_task_logs
from adjutant_runroot.config import (
    CONFIG_KEY,
    DEFAULT_CONFIG,
    BindMount,
    RunrootConfig,
    RunrootConfigError,
    read_config,
)

#: kojid's path of the runroot plugin config; the ``[adjutant]`` key overrides it.
BUILDDIR = "/builddir"
CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER")


class RunrootTask(ContainerTaskHandler):
    Methods = ["runroot"]
    _taskWeight = 2.0

    def handler(self, root: Any, arch: str, command: str | list[str], keep: bool = False,
                packages: list[str] | None = None, mounts: list[str] | None = None,
                repo_id: int | None = None, skip_setarch: bool = False,
                weight: float | None = None, upload_logs: list[str] | None = None,
                new_chroot: bool | None = None) -> str:
        config = self._config()
        if weight is not None:
            self.session.host.setTaskWeight(self.id, max(float(weight), 0.5))
        try:
            binds = [*config.default_binds(), *config.task_binds(list(mounts or []))]
        except RunrootConfigError as exc:
            raise koji.GenericError(str(exc)) from None
        repo = self._repo(root, repo_id)
        build_config = self.session.getBuildConfig(root, event=repo["create_event"])
        ctx = self.context(self._buildroot_arch(arch, root, build_config), build_config,
                           emulate=True)
        image = choose_image(ctx)
        builddir = ctx.subdir("builddir")
        with HubBuildroot(ctx.session, repo["id"], ctx.arch, ctx.task_id) as record, \
                ctx.logs.open("root.log") as root_log:
            for note in (*config.notes, *self._mock_only(keep, skip_setarch, new_chroot)):
                root_log.line(f"runroot: {note}")
            with prepared_buildroot(ctx, image, record, repo["id"], ("build",),
                                    list(packages or []), root_log) as buildroot:
                spec = container_spec(
                    ctx, buildroot.image_id, ["/bin/sh", "-c", shell_command(command)],
                    user="0:0", workdir=BUILDDIR, capabilities=CAPABILITIES,
                    network=config.network != "none", network_mode=config.network,
                    mounts=(Mount(builddir, BUILDDIR, writable=True),
                            *(Mount(b.source, b.target, b.writable) for b in binds)),
                    timeout=float(ctx.settings.rpmbuild_timeout))
                root_log.line("runroot mounts: " + ", ".join(
                    f"{m.target} ({'rw' if m.writable else 'ro'})" for m in spec.mounts))
                with ctx.logs.open("runroot.log") as run_log:
                    result = run_in_container(ctx, spec, run_log.write_output)
        upload(ctx, self._extra_logs(ctx.workdir, builddir, binds, upload_logs or []))
        upload_task_logs(ctx)
        name = command_name(command)
        if result.timed_out:
            raise koji.BuildrootError(f"{name} timed out after {ctx.settings.rpmbuild_timeout}"
                                      " seconds (rpmbuild_timeout); see runroot.log")
        if result.exit_code:
            raise koji.BuildrootError(f"{name} exited with status {result.exit_code}; see "
                                      "runroot.log")
        return f"{name} completed successfully"

    def _config(self) -> RunrootConfig:
        path = Path(self.options.adjutant_settings.get(CONFIG_KEY) or DEFAULT_CONFIG)
        if not path.exists():
            # Another host of the runroot channel may have one.
            raise koji.tasks.RefuseTask(f"no runroot config on this host ({path}; set "
                                        f"[adjutant] {CONFIG_KEY})")
        try:
            return read_config(path)
        except RunrootConfigError as exc:
            raise koji.GenericError(str(exc)) from None

    def _repo(self, root: Any, repo_id: int | None) -> dict[str, Any]:
        """kojid's choice: the given repo (of this tag, READY or EXPIRED), else the tag's
        current one, else wait for one (a ``waitrepo`` subtask)."""
        if repo_id:
            info = self.session.repoInfo(repo_id, strict=True)
            if info["tag_name"] != root and info["tag_id"] != root:
                raise koji.BuildError(f"build tag ({root}) does not match repo tag "
                                      f"({info['tag_name']})")
            if info["state"] not in (koji.REPO_READY, koji.REPO_EXPIRED):
                raise koji.BuildError(f"repos in the {koji.REPO_STATES[info['state']]} state "
                                      "may not be used by runroot")
            return dict(info)
        info = self.session.getRepo(root)
        if not info:
            task_id = self.session.host.subtask(method="waitrepo", arglist=[root, None, None],
                                                parent=self.id)
            info = self.wait(task_id)[task_id]
        return dict(info)

    def _buildroot_arch(self, arch: str, root: Any, build_config: dict[str, Any]) -> str:
        """A noarch runroot runs on the first tag arch this host has (kojid's rule)."""
        if arch != "noarch":
            return arch
        host_arches = {koji.canonArch(a) for a in
                       (self.session.host.getHost()["arches"] or "").split()}
        for tag_arch in (build_config["arches"] or "").split():
            if koji.canonArch(tag_arch) in host_arches:
                return str(koji.canonArch(tag_arch))
        raise koji.BuildError(f"host does not match tag arches: {root} "
                              f"({build_config['arches']})")

    @staticmethod
    def _mock_only(keep: bool, skip_setarch: bool, new_chroot: bool | None) -> list[str]:
        asked = [name for name, value in (("keep", keep), ("skip_setarch", skip_setarch),
                                          ("new_chroot", new_chroot)) if value]
        return [f"{', '.join(asked)}: mock options, no effect in a container"] if asked else []

    @staticmethod
    def _extra_logs(workdir: Path, builddir: Path, binds: list[BindMount],
                    paths: list[str]) -> list[Path]:
        """The ``upload_logs`` files, copied out without following links: an absolute
        path must lie in one of the task's mounts, a relative one is under /builddir."""
        taken = []
        dest = workdir / "upload_logs"
        dest.mkdir(exist_ok=True)
        for asked in paths:
            path = os.path.normpath(asked if asked.startswith("/") else
                                    f"{BUILDDIR}/{asked}")
            base = next(((b.source, b.target) for b in
                         (BindMount(builddir, BUILDDIR, True), *binds)
                         if path.startswith(b.target.rstrip("/") + "/")), None)
            if base is None:
                raise koji.GenericError(f"upload_logs: {asked} is in none of the runroot's "
                                        f"mounts ({BUILDDIR} or the config's)")
            try:
                taken.append(UntrustedDir(base[0]).copy_to(
                    os.path.relpath(path, base[1]), dest))
            except UnsafeFile as exc:
                raise koji.GenericError(f"upload_logs: {asked} refused: {exc}") from None
        return taken


def shell_command(command: str | list[str]) -> str:
    """The command as one shell string: a string as is; a list word by word, quoted."""
    if isinstance(command, str):
        return command
    if not isinstance(command, list) or not all(isinstance(a, str) for a in command):
        raise koji.ParameterError(f"runroot command must be a string or a list of strings, "
                                  f"not {command!r}")
    return " ".join(shlex.quote(arg) for arg in command)


def command_name(command: str | list[str]) -> str:
    """kojid's name for the command in its result: the first word without ``=``."""
    words = command.split() if isinstance(command, str) else command
    words = [w for w in words if "=" not in w]
    return os.path.basename(words[0]) if words else "(none)"
