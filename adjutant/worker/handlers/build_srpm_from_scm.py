"""``buildSRPMFromSCM(url, build_tag, opts)``: check a source out and build its SRPM.

The URL is parsed and checked against ``allowed_scms`` (and the hub's ``build_from_scm``
policy when configured) by koji's own ``SCM``. The checkout runs inside containers of the
task's buildroot (the ``srpm-build`` group installed), through the SCM fetcher plugin for
the URL's scheme (:mod:`adjutant.worker.steps.checkout`); ``rpmbuild -bs`` then runs in
the same buildroot with the network off and the checkout read-only.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import koji
from koji.daemon import SCM

from adjutant.plugin import ScmFetcher
from adjutant.plugin.manager import PluginError
from adjutant.worker.handlers.base import ContainerTaskHandler
from adjutant.worker.steps.checkout import ScmCheckout
from adjutant.worker.steps.results import upload_logs
from adjutant.worker.steps.srpm import srpm_in_buildroot


class BuildSRPMFromSCMTask(ContainerTaskHandler):
    Methods = ["buildSRPMFromSCM"]
    _taskWeight = 1.0

    def checkHost(self, hostdata: dict[str, Any]) -> bool:
        return self.tag_shares_an_arch_with(self.params[1], hostdata)

    def handler(self, url: str, build_tag: Any, opts: dict[str, Any] | None = None) \
            -> dict[str, Any]:
        opts = opts or {}
        # the SCM policy reads taskinfo
        repo, host = self.read_start(self.repo_id_of(opts), taskinfo=True)
        scm = self.allowed_scm(url, opts)
        build_config = self.session.getBuildConfig(build_tag, event=repo["create_event"])
        ctx = self.context(self.find_arch("noarch", host, build_config), build_config)
        checkout = ScmCheckout(ctx, scm, self.fetcher_for(scm))
        built = srpm_in_buildroot(ctx, repo["id"], f"buildSRPMFromSCM {url}", "bs", checkout)
        source = urllib.parse.urlunsplit((scm.scheme.removesuffix("://"), scm.host,
                                          scm.repository, scm.module, checkout.revision))
        return {"srpm": built.path, "logs": upload_logs(ctx), "brootid": built.brootid,
                "source": {"url": url, "source": source}}

    def allowed_scm(self, url: str, opts: dict[str, Any]) -> SCM:
        """The URL parsed by koji's SCM, checked against ``allowed_scms`` and the policy."""
        scm = SCM(url, allow_password=self.options.allow_password_in_scm_url)
        channel = self.session.getChannel(self.taskinfo["channel_id"], strict=True)["name"]
        scm.assert_allowed(allowed=self.options.allowed_scms, session=self.session,
                           by_config=self.options.allowed_scms_use_config,
                           by_policy=self.options.allowed_scms_use_policy,
                           policy_data={"user_id": self.taskinfo["owner"], "channel": channel,
                                        "scratch": opts.get("scratch")})
        return scm

    def fetcher_for(self, scm: SCM) -> ScmFetcher:
        try:
            return self.plugins.scm_fetcher_for(scm.scheme.removesuffix("://"))
        except PluginError as exc:
            raise koji.BuildError(str(exc)) from exc
