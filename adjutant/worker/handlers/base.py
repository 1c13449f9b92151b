"""What every container task handler shares: runtime, image, logs, uploads, observers.

A handler object is created in the daemon (for ``checkHost`` and ``weight``) and runs in
the forked task process; everything that talks to the container engine is created lazily
there, never inherited across the fork.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import koji
import koji.tasks

from adjutant.build.rpmbuild import (
    BUILD_ENV,
    BUILD_USER,
    BUILDDIR,
    INPUTDIR,
    explain_failure,
    rpmbuild_command,
)
from adjutant.config import engine_timeouts
from adjutant.container.errors import ContainerError
from adjutant.container.run import OutputSink, RunResult, run_container
from adjutant.container.runtime import ContainerRuntime
from adjutant.container.spec import ContainerSpec, Limits, Mount
from adjutant.container.untrusted import UntrustedDir, private_dir
from adjutant.engine import open_runtime
from adjutant.image.availability import PullPolicy, ensure_image
from adjutant.logs.fanout import TaskLog
from adjutant.plugin.manager import Plugins
from adjutant.plugin.types import (
    BuildrootPackages,
    BuildrootRequest,
    ImageChoice,
    ImageRequest,
)
from adjutant.policy.cache import PolicyUnavailable
from adjutant.policy.rules import PolicyError
from adjutant.rpm.header import RpmHeaderError, RpmInfo, read_rpm
from adjutant.worker import diskspace, failed
from adjutant.worker.buildroot import BuildrootPreparer, check_requirements, repo_access
from adjutant.worker.buildroot_record import HubBuildroot
from adjutant.worker.hublog import HubLogUploader
from adjutant.worker.labels import task_labels
from adjutant.worker.macros import build_macros
from adjutant.worker.provenance import write_provenance
from adjutant.worker.session import serialize_calls

log = logging.getLogger(__name__)

BUILD_UID = 1000
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the daemon dies, so no task process outlives it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        log.debug("prctl(PR_SET_PDEATHSIG) unavailable")


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(f"task process got signal {signum}")


#: Given the buildroot image id, provides rpmbuild's input: (read-only mounts, input path
#: inside the container, sourcedir or None).
InputPreparer = Callable[[str], tuple[Sequence[Mount], str, str | None]]


class ContainerTaskHandler(koji.tasks.BaseTaskHandler):
    """Base class: subclasses implement ``handler(...)`` with the task's parameters."""

    def __init__(self, id: int, method: str, params: Any, session: Any, options: Any,
                 workdir: str | None = None) -> None:
        super().__init__(id, method, params, session, options, workdir)
        self.plugins: Plugins = options.plugins
        #: Host paths of everything the task produced (results and logs), reported once
        #: to the ``adjutant_results_collected`` observers before the task reports.
        self.collected: list[str] = []
        self.uploader: HubLogUploader | None = None

    # -- process set-up --------------------------------------------------------------

    def run(self) -> Any:
        """Run the task in its own process: observers around it, runtime closed after."""
        if os.getpid() != getattr(self.options, "daemon_pid", None):
            _die_with_parent()
            # Replace the daemon's handlers: SIGINT (koji's first signal on cancel) and
            # SIGTERM end the task process, running every cleanup on the way out.
            signal.signal(signal.SIGTERM, _terminate)
            signal.signal(signal.SIGINT, _terminate)
        serialize_calls(self.session)
        task = self.task_summary()
        self.plugins.task_started(task)
        try:
            result = super().run()
            if self.collected:
                self.plugins.results_collected(task, list(dict.fromkeys(self.collected)))
        except BaseException as exc:
            self.plugins.task_failed(task, exc)
            raise
        finally:
            if "runtime" in self.__dict__:
                self.runtime.close()
        self.plugins.task_finished(task, result)
        return result

    def task_summary(self) -> dict[str, Any]:
        return {"id": self.id, "method": self.method, "params": self.params,
                "arch": getattr(self, "_arch", None)}

    @cached_property
    def runtime(self) -> ContainerRuntime:
        try:
            return open_runtime(self.plugins, self.options.runtime,
                                getattr(self.options, "plugin_options", {}),
                                may_start_services=False,
                                timeouts=engine_timeouts(self.options.container_timeouts))
        except ContainerError as exc:
            raise koji.GenericError(f"container runtime {self.options.runtime!r} is not "
                                    f"usable on this host: {exc}") from exc

    def tag_shares_an_arch_with(self, tag: Any, hostdata: Mapping[str, Any]) -> bool:
        """kojid's host check for build tasks: the tag and this host share an arch."""
        tag_arches = {koji.canonArch(a) for a in
                      (self.session.getBuildConfig(tag)["arches"] or "").split()}
        host_arches = {koji.canonArch(a) for a in (hostdata.get("arches") or "").split()}
        return bool(tag_arches & host_arches)

    def repo_of(self, opts: Mapping[str, Any]) -> dict[str, Any]:
        """The task's repo (``opts['repo_id']``, required, as kojid's build tasks need)."""
        repo_id = opts.get("repo_id")
        if not repo_id:
            raise koji.BuildError(f"{self.method} needs a repo_id in its options")
        return dict(self.session.repoInfo(repo_id, strict=True))

    def fetch_srpm(self, relpath: str) -> tuple[Path, RpmInfo]:
        """Download a work-relative SRPM through topurl and read its header."""
        local = Path(self.localPath(f"work/{relpath}"))
        try:
            header = read_rpm(local)
        except RpmHeaderError as exc:
            raise koji.BuildError(f"{relpath} is not a valid SRPM: {exc}") from exc
        if not header.is_source:
            raise koji.BuildError(f"{relpath} is a binary package, not an SRPM")
        return local, header

    # -- paths -------------------------------------------------------------------------

    def subdir(self, name: str, build_user: bool = False) -> Path:
        """A directory in the task's work dir (owned by the build user when asked)."""
        path = Path(self.workdir) / name
        path.mkdir(parents=True, exist_ok=True)
        if build_user and os.geteuid() == 0:
            os.chown(path, BUILD_UID, BUILD_UID)
        elif build_user:
            path.chmod(0o777)
        return path

    @property
    def logdir(self) -> Path:
        return self.subdir("logs")

    # -- image -------------------------------------------------------------------------

    def choose_image(self, arch: str, tag: str | None,
                     build_config: Mapping[str, Any] | None = None) -> ImageChoice:
        """Ask the image-resolution hook (a site plugin, else the tag's hub policy, else
        the config default); a malformed or unreadable policy fails the task."""
        request = ImageRequest(method=self.method, arch=arch, tag=tag, task_id=self.id,
                               build_config=build_config, session=self.session,
                               settings=self.options.adjutant_settings)
        try:
            choice = self.plugins.resolve_image(request)
        except (PolicyError, PolicyUnavailable) as exc:
            raise koji.BuildError(f"cannot choose the container image: {exc}") from exc
        if choice is None:
            choice = ImageChoice(self.options.task_image_default, "config task_image_default")
        return choice

    def image_for(self, arch: str, tag: str | None,
                  build_config: Mapping[str, Any] | None = None) -> tuple[ImageChoice, str]:
        """The task's image (chosen by policy) and its id, present locally."""
        choice = self.choose_image(arch, tag, build_config)
        return choice, self.ensure_image(choice.image)

    def ensure_image(self, ref: str) -> str:
        """The image id of ``ref``, pulled as ``image_pull_policy`` allows; BuildError if not."""
        try:
            return ensure_image(self.runtime, ref, PullPolicy(self.options.image_pull_policy),
                                float(self.options.container_timeouts["pull"]))
        except ContainerError as exc:
            raise koji.BuildError(f"cannot get container image: {exc}") from exc

    # -- running -----------------------------------------------------------------------

    def live_logs(self) -> HubLogUploader:
        """The uploader that streams this task's logs to the hub while it runs."""
        if self.uploader is None:
            self.uploader = HubLogUploader(self.session, self.logdir, self.getUploadDir(),
                                           float(self.options.hub_log_interval)).start()
        return self.uploader

    def open_log(self, name: str) -> TaskLog:
        """A task log: written to the configured sinks and streamed live to the hub."""
        self.live_logs().add(name)
        sinks = list(dict.fromkeys(["file", *self.options.log_sinks]))
        # kojid's name for it: build.log → build.log-ts.log.
        timestamps = self.logdir / f"{name}-ts.log" if self.options.log_timestamps else None
        if timestamps is not None:
            self.live_logs().add(timestamps.name)
        return TaskLog.open(self.plugins, name, sinks,
                            {"workdir": self.logdir, "task_id": self.id}, timestamps)

    def container_spec(self, image: str, command: Sequence[str], *,
                       mounts: Sequence[Mount] = (), network: bool = False,
                       network_mode: str = "bridge",
                       user: str | None = None, workdir: str | None = None,
                       environment: Mapping[str, str] | None = None,
                       timeout: float | None = None, capabilities: Sequence[str] = ()) \
            -> ContainerSpec:
        """A spec carrying the task's labels, the site's extra mounts and the limits."""
        site_mounts = tuple(Mount(Path(src), dst, rw)
                            for src, dst, rw in self.options.container_mounts)
        return ContainerSpec(
            image=image, command=tuple(command), environment=dict(environment or {}),
            mounts=(*mounts, *site_mounts), user=user, workdir=workdir,
            network=network and bool(self.options.network_enabled),
            network_mode=network_mode,
            labels=task_labels(self.options.host_name, self.id, self.options.container_labels),
            limits=Limits(cpus=self.options.container_cpus,
                          memory_bytes=self.options.container_memory,
                          pids=self.options.container_pids,
                          ulimits=tuple((name.lower(), soft, hard) for name, (soft, hard)
                                        in sorted(self.options.rlimits.items()))),
            timeout=timeout, capabilities=tuple(capabilities),
        )

    def run_in_container(self, spec: ContainerSpec, task_log: TaskLog) -> RunResult:
        return self.run_in_container_with(spec, task_log.write_output)

    def run_in_container_with(self, spec: ContainerSpec, sink: OutputSink) -> RunResult:
        """Run ``spec`` to the end; an engine failure becomes a BuildError saying so."""
        try:
            return run_container(self.runtime, spec, sink)
        except ContainerError as exc:
            raise koji.BuildError(f"container failure: {exc}") from exc

    def fail_build(self, what: str, result: RunResult, log_name: str,
                   timeout: float | None = None) -> koji.BuildError:
        """A BuildError naming the failing step, with the log's last lines."""
        text = (self.logdir / log_name).read_text(errors="replace")
        failure = explain_failure(text, result.exit_code, result.timed_out, timeout=timeout,
                                  oom_killed=result.oom_killed,
                                  memory_limit=self.options.container_memory)
        summary = failure.summary
        if failure.step == "disk":
            where = diskspace.full_disk_detail(self.options.workdir, self.options.minspace)
            summary += f" ({where})"
        return koji.BuildError(f"{what}: {summary}\n--- last lines of {log_name} ---\n"
                               f"{failure.tail}")

    # -- buildroot ---------------------------------------------------------------------

    def setup_buildroot(self, broot: HubBuildroot, preparer: BuildrootPreparer,
                        choice: ImageChoice, image_id: str, repo_id: int, tag_name: str,
                        arch: str, groups: tuple[str, ...], requirements: Sequence[str],
                        root_log: TaskLog) -> tuple[str, BuildrootPackages]:
        """Prepare the buildroot and record it on the hub (listing, then BUILDING).

        Returns the id of the image to build in (an id, not a name that could move) and the
        packages, whose ``added`` part the caller reports after the build. With
        ``buildroot_enabled`` off the image is used as it is and nothing is installed.
        """
        if not self.options.buildroot_enabled:
            root_log.line("buildroot_enabled is off: the image is used as it is (no dnf)")
            broot.set_installed([])
            broot.building()
            return image_id, BuildrootPackages()
        check_requirements(requirements)
        access = repo_access(self.options, tag_name, repo_id, arch)
        request = BuildrootRequest(
            base_image=choice.image, base_image_id=image_id, arch=arch, repo_id=repo_id,
            repo_url=access.url, groups=groups, packages=tuple(requirements),
            settings=self.options.adjutant_settings)
        prepared = preparer.prepare(request, access, root_log)
        broot.set_installed(prepared.packages.initial)
        broot.building()
        return prepared.image_id, prepared.packages

    def rpmbuild_in_buildroot(
            self, broot: HubBuildroot, root_log: TaskLog, choice: ImageChoice, image_id: str,
            repo_id: int, build_config: Mapping[str, Any], arch: str, *,
            groups: tuple[str, ...], requirements: Sequence[str], mode: str,
            srpm: Path | None = None, prepare_input: InputPreparer | None = None,
            target_arch: str | None = None, extra_args: Sequence[str] = ()) \
            -> tuple[RunResult, Path]:
        """Prepare the buildroot, then run rpmbuild (``mode``) in it as the unprivileged
        build user with the network off, on ``srpm`` or on what ``prepare_input`` (given
        the buildroot image id) provides: ``(read-only mounts, input path, sourcedir)``.
        Returns the run and the build dir (``RPMS/``, ``SRPMS/``); the hub listing is
        updated with what the build added."""
        builddir = self.subdir("build", build_user=True)
        preparer = BuildrootPreparer(self)
        write_provenance(root_log, choice, image_id, self.runtime.name)
        try:
            image, packages = self.setup_buildroot(
                broot, preparer, choice, image_id, repo_id, build_config["name"], arch,
                groups, requirements, root_log)
            if prepare_input is not None:
                mounts, input_path, sourcedir = prepare_input(image)
            elif srpm is not None:
                mounts = (Mount(srpm, f"{INPUTDIR}/{srpm.name}"),)
                input_path, sourcedir = f"{INPUTDIR}/{srpm.name}", None
            else:
                raise ValueError("rpmbuild_in_buildroot needs srpm or prepare_input")
            command = rpmbuild_command(
                mode, input_path, target_arch=target_arch, extra_args=extra_args,
                sourcedir=sourcedir, macros=build_macros(self.options, build_config, arch))
            spec = self.container_spec(
                image, command, user=BUILD_USER, workdir=BUILDDIR, environment=BUILD_ENV,
                timeout=float(self.options.rpmbuild_timeout),
                mounts=(*mounts, Mount(builddir, BUILDDIR, writable=True)))
            with self.open_log("build.log") as build_log:
                result = self.run_in_container(spec, build_log)
            if not result.ok:
                self.keep_failed_buildroot(image, builddir, root_log)
        finally:
            preparer.release()
        broot.add_installed(packages.added)
        return result, builddir

    def keep_failed_buildroot(self, image_id: str, builddir: Path, root_log: TaskLog) -> None:
        """kojid's ``failed_buildroot_lifetime``: keep the buildroot image and build dir
        of a failed build for inspection (``saveFailedTree``, ``adjutant shell``); never
        when that would hold the space of a full disk (see ``failed.reason_not_to_keep``)."""
        if int(self.options.failed_buildroot_lifetime) > 0 and (why := failed.reason_not_to_keep(
                self.options.workdir, self.options.minspace, self.logdir / "build.log")):
            root_log.line(f"failed buildroot not kept (failed_buildroot_lifetime): {why}")
            return
        kept = failed.keep(self.runtime, self.options.workdir, self.options.host_name,
                           self.id, image_id, builddir,
                           int(self.options.failed_buildroot_lifetime))
        if kept is not None:
            until = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(kept.expires))
            root_log.line(f"failed buildroot kept until {until} (failed_buildroot_lifetime): "
                          f"image {kept.image}, build dir {kept.builddir}")

    def srpm_in_buildroot(self, build_tag: Any, opts: Mapping[str, Any], what: str, *,
                          mode: str, srpm: Path | None = None,
                          prepare_input: InputPreparer | None = None,
                          extra_args: Sequence[str] = ()) -> tuple[str, int]:
        """rebuildSRPM's and buildSRPMFromSCM's common part: an ``srpm-build`` buildroot of
        the build tag's repo (``opts['repo_id']`` or the latest), rpmbuild ``mode`` in it,
        exactly one SRPM named after its own N-V-R, uploaded. Returns (its work-relative
        path, the buildroot id); failures name ``what``."""
        repo_info = self.repo_of(opts)
        build_config = self.session.getBuildConfig(build_tag, event=repo_info["create_event"])
        br_arch = self.find_arch("noarch", self.session.host.getHost(), build_config)
        self._arch = br_arch
        choice, image_id = self.image_for(br_arch, build_config["name"], build_config)
        with HubBuildroot(self.session, repo_info["id"], br_arch, self.id) as broot, \
                self.open_log("root.log") as root_log:
            result, builddir = self.rpmbuild_in_buildroot(
                broot, root_log, choice, image_id, repo_info["id"], build_config, br_arch,
                groups=("srpm-build",), requirements=(), mode=mode, srpm=srpm,
                prepare_input=prepare_input, extra_args=extra_args)
            if not result.ok:
                raise self.fail_build(what, result, "build.log")
            produced = self.take_results(builddir, "SRPMS", ".src.rpm", root_log)
            if len(produced) != 1:
                raise koji.BuildError(f"expected exactly one SRPM, got "
                                      f"{[p.name for p in produced]}")
            header = read_rpm(produced[0])
            if produced[0].name != f"{header.nvr}.src.rpm":
                raise koji.BuildError(f"SRPM name mismatch: {produced[0].name} != "
                                      f"{header.nvr}.src.rpm")
            uploaded = self.upload_results(produced)[0]
        return uploaded, broot.id

    # -- results -----------------------------------------------------------------------

    def take_results(self, builddir: Path, subdir: str, suffix: str, task_log: TaskLog) \
            -> list[Path]:
        """The regular files ``subdir/*suffix`` of a directory a build wrote, copied into
        the task's private ``results/<subdir>/`` without following any link. Anything else
        there (a link, a fifo, a device, a strange name) is named in ``task_log`` and
        fails the task: a build that leaves such things among its results is refused."""
        untrusted = UntrustedDir(builddir, task_log.line)
        taken = untrusted.collect(subdir, suffix,
                                  private_dir(Path(self.workdir) / "results" / subdir))
        if untrusted.refusals:
            raise koji.BuildError(
                "the build left results that are not regular files; refused, not read: "
                + "; ".join(str(r) for r in untrusted.refusals))
        return taken

    def upload_results(self, files: Sequence[Path]) -> list[str]:
        """Upload files into the task's directory; return their paths relative to work/."""
        self.collected.extend(str(f) for f in files)
        uploadpath = self.getUploadDir()
        result = []
        for path in files:
            self.uploadFile(str(path))
            result.append(f"{uploadpath}/{path.name}")
        return result

    def removeWorkdir(self) -> None:
        """Before the work dir goes (success or failure): the rest of the logs to the hub,
        so that a failed task's log ends with its error there too."""
        if self.uploader is not None:
            try:
                self.finish_logs()
            except Exception:
                log.warning("final upload of the logs of task %s failed", self.id,
                            exc_info=True)
        super().removeWorkdir()

    def finish_logs(self) -> list[str]:
        """Final upload of every file in the log dir; their work-relative paths."""
        uploader = self.live_logs()
        names = UntrustedDir(self.logdir).files()
        for name in names:
            uploader.add(name)
        uploader.stop()
        self.uploader = None
        uploadpath = self.getUploadDir()
        self.collected.extend(str(self.logdir / name) for name in names)
        return [f"{uploadpath}/{name}" for name in names]
