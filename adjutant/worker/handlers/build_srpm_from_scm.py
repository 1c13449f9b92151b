"""``buildSRPMFromSCM(url, build_tag, opts)``: check a source out and build its SRPM.

The URL is parsed and checked against ``allowed_scms`` (and the hub's ``build_from_scm``
policy when configured) by koji's own ``SCM``. The checkout runs inside a container from
the task's buildroot image (the ``srpm-build`` group installed), as the build user with
the network on, through the SCM fetcher plugin for the URL's scheme; the configured
source command (``make sources`` by default) runs there too. ``rpmbuild -bs`` then runs
in the same buildroot with the network off and the checkout read-only.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import koji
from koji.daemon import SCM

from adjutant.build.rpmbuild import BUILD_ENV, BUILD_USER
from adjutant.container.spec import Mount
from adjutant.container.untrusted import UnsafeFile, UntrustedDir
from adjutant.logs.fanout import TaskLog
from adjutant.plugin import CommandResult
from adjutant.plugin.manager import PluginError
from adjutant.worker.handlers.base import ContainerTaskHandler

CHECKOUT = "/checkout"
SOURCE_DIR = f"{CHECKOUT}/src"
CREDENTIALS = "/credentials"


class BuildSRPMFromSCMTask(ContainerTaskHandler):
    Methods = ["buildSRPMFromSCM"]
    _taskWeight = 1.0

    def checkHost(self, hostdata: dict[str, Any]) -> bool:
        return self.tag_shares_an_arch_with(self.params[1], hostdata)

    def handler(self, url: str, build_tag: Any, opts: dict[str, Any] | None = None) \
            -> dict[str, Any]:
        opts = opts or {}
        scm = SCM(url, allow_password=self.options.allow_password_in_scm_url)
        channel = self.session.getChannel(self.taskinfo["channel_id"], strict=True)["name"]
        scm.assert_allowed(allowed=self.options.allowed_scms, session=self.session,
                           by_config=self.options.allowed_scms_use_config,
                           by_policy=self.options.allowed_scms_use_policy,
                           policy_data={"user_id": self.taskinfo["owner"], "channel": channel,
                                        "scratch": opts.get("scratch")})
        scheme = scm.scheme.removesuffix("://")
        try:
            fetcher = self.plugins.scm_fetcher_for(scheme)
        except PluginError as exc:
            raise koji.BuildError(str(exc)) from exc
        checkout = self.subdir("checkout", build_user=True)
        revision: list[str] = []

        def prepare_input(image: str) -> tuple[Sequence[Mount], str, str | None]:
            with self.open_log("checkout.log") as log:
                if scm.use_common:
                    log.line("adjutant: the use_common checkout of common/ is not supported; "
                             "set use_common to no for this SCM in allowed_scms to silence "
                             "this")

                def run(argv: Sequence[str], cwd: str) -> CommandResult:
                    return self._run_checkout_command(image, checkout, log, argv, cwd)

                try:
                    result = fetcher.fetch(scm.get_info(), SOURCE_DIR, run)
                except koji.GenericError:
                    raise
                except Exception as exc:
                    raise koji.BuildError(f"checkout of {url} failed: {exc}") from exc
                revision.append(result.revision)
                if scm.source_cmd:
                    done = run(scm.source_cmd, result.path)
                    if done.exit_code:
                        raise koji.BuildError(
                            f"source command {' '.join(scm.source_cmd)!r} failed with status "
                            f"{done.exit_code}; see checkout.log")
            with self.open_log("checkout.log") as log:
                tree = UntrustedDir(checkout, log.line)
                module = self._module_dir(tree, result.path)
                spec = self._spec_file(tree, module)
                sources = f"{module}/SOURCES" if self.options.support_rpm_source_layout \
                    and tree.is_dir(f"{module}/SOURCES") else module
            return ((Mount(checkout, CHECKOUT),), f"{CHECKOUT}/{spec}",
                    f"{CHECKOUT}/{sources}")

        uploaded, brootid = self.srpm_in_buildroot(
            build_tag, opts, f"buildSRPMFromSCM {url}", mode="bs", prepare_input=prepare_input)
        source = urllib.parse.urlunsplit(
            (scheme, scm.host, scm.repository, scm.module, revision[0]))
        return {"srpm": uploaded, "logs": self.finish_logs(), "brootid": brootid,
                "source": {"url": url, "source": source}}

    def _run_checkout_command(self, image: str, checkout: Path, log: TaskLog,
                              argv: Sequence[str], cwd: str) -> CommandResult:
        """One checkout step in a container: network on, only the checkout writable."""
        stdout = bytearray()

        def sink(stream: Any, data: bytes) -> None:
            log.write(data)
            if stream == 1:
                stdout.extend(data)

        log.line(f"$ {' '.join(argv)}")
        spec = self.container_spec(
            image, argv, user=BUILD_USER, workdir=cwd, environment=BUILD_ENV,
            network=True, network_mode=self.options.scm_network,
            timeout=float(self.options.rpmbuild_timeout),
            mounts=(Mount(checkout, CHECKOUT, writable=True), *self._credentials()))
        result = self.run_in_container_with(spec, sink)
        return CommandResult(result.exit_code if not result.timed_out else 124,
                             stdout.decode(errors="replace"))

    def _credentials(self) -> tuple[Mount, ...]:
        """kojid.conf's ``scm_credentials_dir``, read-only at ``/credentials`` (kojid's
        path), in the checkout containers only: never in a build."""
        directory = self.options.scm_credentials_dir
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
        if not specs and self.options.support_rpm_source_layout:
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
