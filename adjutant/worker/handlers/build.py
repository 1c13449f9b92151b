"""``build(src, target, opts)``: the parent of an rpm build (kojid's BuildTask contract).

No container of its own: it asks the hub's policies, gets the repo, has the SRPM rebuilt
(``rebuildSRPM`` subtask) unless the tag says not to, starts one ``buildArch`` per arch,
then imports the results (``completeBuild``, or ``moveBuildToScratch`` for scratch
builds) and tags the build (``tagBuild`` subtask). Subtasks carry labels so a restarted
parent finds its children instead of creating new ones.
"""

from __future__ import annotations

import json
from typing import Any

import koji
import koji.tasks
from koji.daemon import SCM

from adjutant.rpm.header import RpmInfo
from adjutant.worker.arches import build_arches, subtask_arch
from adjutant.worker.handlers.hubtask import HubTaskHandler


class BuildTask(HubTaskHandler):
    Methods = ["build"]
    _taskWeight = 0.2

    def handler(self, src: str, target: str | None, opts: dict[str, Any] | None = None) \
            -> None:
        opts = dict(opts or {})
        scratch = bool(opts.get("scratch"))
        if opts.get("arch_override") and not scratch:
            raise koji.BuildError("arch_override is only allowed for scratch builds")
        metadata = _user_metadata(opts)
        # a repo_id build with no target builds into nothing: kojid skips the tagging
        skip_tag = bool(opts.get("skip_tag")) or scratch or target is None
        from_scm = SCM.is_scm_url(src)
        build_tag, dest_tag, repo_info, target_name = self._tags_and_repo(target, opts)
        task_info = self.session.getTaskInfo(self.id)
        policy = {"user_id": task_info["owner"], "source": src, "task_id": self.id,
                  "build_tag": build_tag["id"], "skip_tag": skip_tag, "scratch": scratch,
                  "draft": bool(opts.get("draft")), "from_scm": from_scm,
                  "repo_id": opts.get("repo_id")}
        if target_name is not None:
            policy["target"] = target_name
        if not skip_tag:
            policy["tag"] = dest_tag["id"]
        if not from_scm and not scratch:
            self.session.host.assertPolicy("build_from_srpm", policy)
        if opts.get("repo_id"):
            self.session.host.assertPolicy("build_from_repo_id", policy)
        self.session.host.assertPolicy("build_rpm", policy)

        # the tag's arches and extras as of the repo the build uses: one read for the
        # SRPM's subtask, the arches and the buildArch subtasks
        build_config = self.session.getBuildConfig(build_tag["id"],
                                                   event=repo_info["create_event"])
        srpm, source = self._srpm(src, build_config, repo_info, opts, from_scm, scratch)
        _local, header = self.fetch_srpm(srpm)
        package = self.session.getPackageConfig(dest_tag["id"], header.name)
        if not skip_tag and (package is None or package.get("blocked")):
            state = "not listed" if package is None else "blocked"
            raise koji.BuildError(f"package {header.name} is {state} in tag "
                                  f"{dest_tag['name']}; add it with koji add-pkg")
        arches = build_arches(
            (build_config.get("arches") or "").split(), header,
            extra_arches=((package or {}).get("extra_arches") or "").split(),
            override=(opts.get("arch_override") or "").split() if scratch else (),
            literal=self.options.literal_task_arches)

        build_id = None
        if not scratch:
            build_id = self.session.host.initBuild(
                _build_data(header, self.id, source, metadata, bool(opts.get("draft"))))
        try:
            rpms, brmap, logs, kept_srpm = _merge(self._build_arches(
                srpm, header, build_config, arches, repo_info["id"], opts))
            if scratch:
                self.session.host.moveBuildToScratch(self.id, kept_srpm, rpms, logs=logs)
            else:
                self.session.host.completeBuild(self.id, build_id, kept_srpm, rpms, brmap,
                                                logs=logs)
        except (SystemExit, KeyboardInterrupt, koji.tasks.ServerExit):
            raise
        except Exception:
            if build_id is not None:
                self.session.host.failBuild(self.id, build_id)
            raise
        if not skip_tag:
            child = self.session.host.subtask(
                method="tagBuild", arglist=[dest_tag["id"], build_id, False, None, True],
                label="tag", parent=self.id, arch="noarch")
            self.wait(child, all=True, failany=True)
        return None

    def _tags_and_repo(self, target: str | None, opts: dict[str, Any]) \
            -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], str | None]:
        """The build tag, the destination tag, the repo and the target's name (none when
        ``target`` names a tag). With ``opts['repo_id']``, ``target`` is a target whose
        build tag is the repo's, or a tag, or none (the destination is then the build
        tag, and the build is not tagged); else a target whose repo is waited for."""
        if opts.get("repo_id"):
            repo_info = self.session.repoInfo(opts["repo_id"], strict=True)
            if repo_info["state"] not in (koji.REPO_READY, koji.REPO_EXPIRED):
                raise koji.BuildError(f"repo {repo_info['id']} is "
                                      f"{koji.REPO_STATES[repo_info['state']]}, not usable")
            build_tag = self.session.getTag(repo_info["tag_id"], strict=True)
            if target is None:
                return build_tag, build_tag, repo_info, None
            target_info = self.session.getBuildTarget(target)
            if target_info:
                if target_info["build_tag"] != repo_info["tag_id"]:
                    raise koji.BuildError(
                        f"Repo/Target mismatch: repo {repo_info['id']} is of tag "
                        f"{build_tag['name']}, target {target} builds from "
                        f"{target_info['build_tag_name']}")
                dest_tag = self.session.getTag(target_info["dest_tag"], strict=True)
                return build_tag, dest_tag, repo_info, target_info["name"]
            dest_tag = self.session.getTag(target)
            if not dest_tag:
                raise koji.BuildError(f"{target} is neither a build target nor a tag")
            return build_tag, dest_tag, repo_info, None
        target_info = self.session.getBuildTarget(target, strict=True)
        build_tag = self.session.getTag(target_info["build_tag"], strict=True)
        dest_tag = self.session.getTag(target_info["dest_tag"], strict=True)
        # koji's own: a waitrepo subtask unless a repo holds the wait_builds (and, with
        # wait_repo, every change the tag had when the build started)
        repo_info = self.getRepo(build_tag["id"], builds=opts.get("wait_builds"),
                                 wait=bool(opts.get("wait_repo")))
        return build_tag, dest_tag, repo_info, target_info["name"]

    def _srpm(self, src: str, build_config: dict[str, Any], repo_info: dict[str, Any],
              opts: dict[str, Any], from_scm: bool, scratch: bool) \
            -> tuple[str, dict[str, Any] | None]:
        """The SRPM to build (work-relative) and the ``source`` its subtask reported
        (``{"source": ..., "url": ...}``; none for an SRPM used as uploaded)."""
        child_opts = {"repo_id": repo_info["id"], "scratch": scratch}
        if from_scm:
            method, args = "buildSRPMFromSCM", [src, build_config["id"], child_opts]
        else:
            rebuild = (build_config.get("extra") or {}).get("rebuild_srpm", True)
            if scratch and "rebuild_srpm" in opts:
                rebuild = opts["rebuild_srpm"]
            if not rebuild:
                return src, None
            method, args = "rebuildSRPM", [src, build_config["id"], child_opts]
        child = self.session.host.subtask(
            method=method, arglist=args, label="srpm", parent=self.id,
            arch=subtask_arch("noarch", build_config,
                              literal=self.options.literal_task_arches))
        result = self.wait(child, all=True, failany=True)[child]
        return result["srpm"], result.get("source") or None

    def _build_arches(self, srpm: str, header: RpmInfo, build_config: dict[str, Any],
                      arches: list[str], repo_id: int, opts: dict[str, Any]) \
            -> dict[str, Any]:
        """One buildArch per arch (the first keeps the SRPM) → results by arch."""
        children = {}
        for index, arch in enumerate(arches):
            children[self.session.host.subtask(
                method="buildArch",
                arglist=[srpm, build_config["id"], arch, index == 0, {"repo_id": repo_id}],
                label=arch, parent=self.id,
                arch=subtask_arch(arch, build_config, header,
                                  self.options.literal_task_arches))] = arch
        failany = not self.options.build_arch_can_fail or bool(opts.get("fail_fast"))
        results = self.wait(list(children), all=True, failany=failany)
        return {children[child]: result for child, result in results.items()}


def _user_metadata(opts: dict[str, Any]) -> dict[str, Any] | None:
    """``opts['custom_user_metadata']``, checked as kojid does before any work: a JSON
    object, or BuildError."""
    metadata = opts.get("custom_user_metadata")
    if not metadata:
        return None
    if not isinstance(metadata, dict):
        raise koji.BuildError("custom_user_metadata must be serializable to a JSON object")
    try:
        json.dumps(metadata)
    except (TypeError, ValueError):
        raise koji.BuildError("custom_user_metadata is not JSON serializable") from None
    return metadata


def _build_data(header: RpmInfo, task_id: int, source: dict[str, Any] | None,
                metadata: dict[str, Any] | None, draft: bool) -> dict[str, Any]:
    """``host.initBuild``'s data, as kojid's: the SRPM's N-V-R and epoch; where the SRPM
    came from (``source``, and ``extra.source.original_url``); the user's metadata; and
    ``draft`` (the hub then gives the build a ``,draft_<id>`` release)."""
    data: dict[str, Any] = {"name": header.name, "version": header.version,
                            "release": header.release, "epoch": header.epoch,
                            "task_id": task_id}
    extra: dict[str, Any] = {}
    if source:
        data["source"] = source["source"]
        extra["source"] = {"original_url": source["url"]}
    if metadata:
        extra["custom_user_metadata"] = metadata
    if extra:
        data["extra"] = extra
    if draft:
        data["draft"] = True
    return data


def _merge(results: dict[str, Any]) -> tuple[list[str], dict[str, int], dict[str, list[str]],
                                             str]:
    """kojid's merge of the buildArch results (by arch): rpms, the buildroot of each file,
    logs per arch, and the one kept SRPM."""
    rpms: list[str] = []
    brmap: dict[str, int] = {}
    logs: dict[str, list[str]] = {}
    srpms: list[str] = []
    for arch, result in results.items():
        if isinstance(result, dict) and "faultCode" in result:
            continue  # an arch allowed to fail (build_arch_can_fail)
        for path in (*result["rpms"], *result["srpms"]):
            brmap[path] = result["brootid"]
        rpms.extend(result["rpms"])
        srpms.extend(result["srpms"])
        logs[arch] = list(result["logs"])
    if len(srpms) != 1:
        raise koji.BuildError(f"expected exactly one SRPM from the arch builds, got {srpms}")
    return rpms, brmap, logs, srpms[0]
