"""An SCM checkout for buildSRPMFromSCM, made in containers of the task's buildroot.

The fetcher plugin for the URL's scheme (git is built in) runs its commands through
:meth:`ScmCheckout.run`: each in a container of the buildroot image, as the build user,
the network on (``scm_network``), only the checkout writable, and kojid.conf's
``scm_credentials_dir`` read-only at ``/credentials``. The source command (``make
sources``) runs the same way. The checkout is then hostile input: the spec is found and
read through :class:`~adjutant.container.untrusted.UntrustedDir`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import koji

from adjutant.build.rpmbuild import BUILD_ENV, BUILD_USER
from adjutant.container.spec import Mount
from adjutant.container.untrusted import UnsafeFile, UntrustedDir
from adjutant.logs.fanout import TaskLog
from adjutant.plugin import CommandResult, CommandRunner, ScmFetcher
from adjutant.worker.context import TaskContext
from adjutant.worker.steps.buildroot import Buildroot
from adjutant.worker.steps.containers import container_spec, run_in_container
from adjutant.worker.steps.rpmbuild import BuildInput, build_environment

CHECKOUT = "/checkout"
SOURCE_DIR = f"{CHECKOUT}/src"
COMMON_DIR = f"{CHECKOUT}/common"
CREDENTIALS = "/credentials"


class ScmCheckout:
    """Called with the prepared buildroot, checks ``url`` out and returns rpmbuild's
    input (the spec, its sources, the checkout mounted read-only); ``revision`` is the
    exact revision checked out."""

    def __init__(self, ctx: TaskContext, scm: Any, fetcher: ScmFetcher) -> None:
        self.ctx = ctx
        self.scm = scm
        self.fetcher = fetcher
        self.checkout = ctx.subdir("checkout", build_user=True)
        self.revision: str | None = None

    def __call__(self, buildroot: Buildroot) -> BuildInput:
        with self.ctx.logs.open("checkout.log") as log:
            path = self._fetch(buildroot.image_id, log)
            tree = UntrustedDir(self.checkout, log.line)
            module = self._module_dir(tree, path)
            spec = self._spec_file(tree, module)
            sources = f"{module}/SOURCES" if self.ctx.settings.support_rpm_source_layout \
                and tree.is_dir(f"{module}/SOURCES") else module
        return BuildInput((Mount(self.checkout, CHECKOUT),), f"{CHECKOUT}/{spec}",
                          f"{CHECKOUT}/{sources}", scm_url=self.scm.url,
                          scm_commit=self.revision)

    def _fetch(self, image_id: str, log: TaskLog) -> str:
        """Check out, run the source command; the module dir in the container."""
        scm = self.scm

        def run(argv: Sequence[str], cwd: str) -> CommandResult:
            return self.run(image_id, log, argv, cwd)

        try:
            result = self.fetcher.fetch(scm.get_info(), SOURCE_DIR, run)
        except koji.GenericError:
            raise
        except Exception as exc:
            raise koji.BuildError(f"checkout of {scm.url} failed: {exc}") from exc
        self.revision = result.revision
        if scm.use_common:
            self._fetch_common(str(result.path), run)
        if scm.source_cmd:
            # As kojid's, in the buildroot with the build's environment (mock's chroot).
            done = self.run(image_id, log, scm.source_cmd, result.path,
                            build_environment(self.ctx))
            if done.exit_code:
                raise koji.BuildError(f"source command {' '.join(scm.source_cmd)!r} failed "
                                      f"with status {done.exit_code}; see checkout.log")
        return str(result.path)

    def _fetch_common(self, module_dir: str, run: CommandRunner) -> None:
        """kojid's ``use_common``: the repository's ``common`` module checked out beside
        the checkout (``/checkout/common``) and, unless the module dir's parent has a
        ``common`` of its own, linked there (``<module dir>/../common``) by a relative
        link, so that ``../common/...`` in a Makefile or spec finds it."""
        fetch_common = self.fetcher.fetch_common
        if fetch_common is None:
            raise koji.BuildError(f"allowed_scms asks for use_common, but the "
                                  f"{self.fetcher.name} fetcher cannot check out common/; "
                                  "set use_common to no for this SCM in allowed_scms")
        try:
            fetch_common(self.scm.get_info(), COMMON_DIR, run)
        except koji.GenericError:
            raise
        except Exception as exc:
            raise koji.BuildError(f"checkout of common/ for {self.scm.url} failed: {exc}") \
                from exc
        parent = PurePosixPath(module_dir).parent
        if not parent.is_relative_to(CHECKOUT) or ".." in parent.parts:
            raise koji.BuildError(f"the checkout's module dir {module_dir!r} is not inside "
                                  "the checkout")
        depth = len(parent.relative_to(CHECKOUT).parts)
        if depth == 0:
            return  # the parent is the checkout itself: common/ is already there
        # Task input reaches the shell only as "$0", never inside the script.
        linked = run(["sh", "-c", 'test -e common || test -L common || exec ln -s "$0" common',
                      "../" * depth + "common"], str(parent))
        if linked.exit_code:
            raise koji.BuildError(f"linking common/ into {parent} failed; see checkout.log")

    def run(self, image_id: str, log: TaskLog, argv: Sequence[str], cwd: str,
            environment: Mapping[str, str] = BUILD_ENV) -> CommandResult:
        """One checkout step in a container: network on, only the checkout writable."""
        stdout = bytearray()

        def sink(stream: Any, data: bytes) -> None:
            log.write(data)
            if stream == 1:
                stdout.extend(data)

        log.line(f"$ {' '.join(argv)}")
        s = self.ctx.settings
        spec = container_spec(
            self.ctx, image_id, argv, user=BUILD_USER, workdir=cwd, environment=environment,
            network=True, network_mode=s.scm_network, timeout=float(s.rpmbuild_timeout),
            mounts=(Mount(self.checkout, CHECKOUT, writable=True), *self._credentials()))
        result = run_in_container(self.ctx, spec, sink)
        return CommandResult(result.exit_code if not result.timed_out else 124,
                             stdout.decode(errors="replace"))

    def _credentials(self) -> tuple[Mount, ...]:
        """kojid.conf's ``scm_credentials_dir``, read-only at ``/credentials`` (kojid's
        path), in the checkout containers only: never in a build."""
        directory = self.ctx.settings.scm_credentials_dir
        if directory and Path(directory).is_dir():
            return (Mount(Path(directory), CREDENTIALS),)
        return ()

    @staticmethod
    def _module_dir(tree: UntrustedDir, path: str) -> str:
        """The checkout's module dir, relative to the checkout: a real directory in it,
        reached through no link (the checkout is the build's, and hostile)."""
        relative = Path(path).relative_to(CHECKOUT).as_posix()
        if ".." in relative.split("/") or not tree.is_dir(relative):
            raise koji.BuildError(f"the checkout's module dir {relative!r} is not a "
                                  "directory inside the checkout (a link is not followed)")
        return relative

    def _spec_file(self, tree: UntrustedDir, module: str) -> str:
        """kojid's rule: one spec at the top (or in SPECS/), else the one named after the
        checkout dir; Packager, Distribution and Vendor may not be set in it. Returns its
        path relative to the checkout; a spec that is a link is refused, not read."""
        specs = tree.files(module, ".spec")
        if not specs and self.ctx.settings.support_rpm_source_layout:
            specs = tree.files(f"{module}/SPECS", ".spec")
        if not specs:
            raise koji.BuildError(f"no spec file found in the checkout ({module})"
                                  + ("; refused: " + "; ".join(map(str, tree.refusals))
                                     if tree.refusals else ""))
        if len(specs) > 1:
            dirname = Path(module).name
            named = [s for s in specs if Path(s).stem == dirname]
            if len(named) != 1:
                raise koji.BuildError("several spec files, none named after the checkout "
                                      f"dir: {', '.join(Path(s).name for s in specs)}")
            specs = named
        try:
            text = tree.read_text(specs[0])
        except UnsafeFile as exc:
            raise koji.BuildError(f"spec file refused: {exc}") from None
        for tag in ("Packager", "Distribution", "Vendor"):
            if re.search(rf"^{tag}:", text, re.MULTILINE):
                raise koji.BuildError(f"{tag} is not allowed to be set in the spec file")
            if re.search(rf"^%define\s+{tag.lower()}\s", text, re.MULTILINE):
                raise koji.BuildError(f"{tag.lower()} is not allowed to be defined in the "
                                      "spec file")
        return specs[0]
