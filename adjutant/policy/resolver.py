"""The built-in image resolver: the tag's hub policy, else the config default.

Registered ``trylast``: any site plugin that answers ``adjutant_resolve_image`` wins; one
that returns None defers to this.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adjutant.container.platforms import canonical, host_arch
from adjutant.image.default import DEFAULT_IMAGE, default_image_ref
from adjutant.plugin import ImageChoice, ImageRequest, hookimpl
from adjutant.policy.cache import PolicyCache
from adjutant.policy.rules import POLICY_KEY, parse_policy, select


def config_default(settings: Mapping[str, Any], arch: str, emulated: bool,
                   why: str = "") -> ImageChoice:
    """The config's image for a task of ``arch``: ``task_image_default_ARCH`` for the arch
    its containers run as (an emulated arch, or this host's own), else
    ``task_image_default``. A task whose ``arch`` is only data (a repo's) runs natively.

    An emulated arch without an image of its own gets adjutant's default image of that
    arch when ``task_image_default`` is adjutant's default; any other
    ``task_image_default`` is returned as it is, and the worker's arch check then names
    the key to set (a multi-arch name cannot serve: an engine keeps one local image per
    name, so pulling another arch's would replace the host's).
    """
    run_arch = canonical(arch) if emulated else host_arch()
    by_arch = settings.get("task_image_default_by_arch") or {}
    suffix = f" ({why})" if why else ""
    if run_arch in by_arch:
        return ImageChoice(by_arch[run_arch], f"config task_image_default_{run_arch}{suffix}")
    default = settings["task_image_default"]
    if emulated and default == DEFAULT_IMAGE:
        return ImageChoice(default_image_ref(run_arch),
                           f"adjutant's default image for {run_arch} (config "
                           f"task_image_default is adjutant's default){suffix}")
    return ImageChoice(default, f"config task_image_default{suffix}")


def _config_default(request: ImageRequest, why: str) -> ImageChoice:
    return config_default(request.settings, request.arch, request.emulated, why)


def policy_cache(settings: Any) -> PolicyCache:
    return PolicyCache(Path(settings["cache_dir"]) / "policy", float(settings["policy_cache_ttl"]))


#: A settings key ``adjutant policy explain`` sets to read the hub directly, bypassing
#: (and leaving untouched) the cache the worker's tasks share.
BYPASS_CACHE = "policy_cache_bypass"


def resolve(request: ImageRequest) -> ImageChoice:
    """Apply the tag's policy to the request. Raises PolicyError for a malformed policy and
    PolicyUnavailable when the hub cannot be read and nothing is cached."""
    settings = request.settings
    use_cache = not settings.get(BYPASS_CACHE, False)
    if not settings.get("policy_enabled", True):
        return _config_default(request, "policy_enabled is off")
    if request.tag is None or request.session is None:
        return _config_default(request, "the task has no tag")
    tag = request.tag

    def fetch() -> Any:
        return (request.session.getBuildConfig(tag).get("extra") or {}).get(POLICY_KEY)

    if use_cache:
        cached = policy_cache(settings).get(tag, fetch)
        value, note = cached.value, (" (cached)" if cached.from_cache else "")
        if cached.stale_because:
            note = f" ({cached.stale_because})"
    else:
        value, note = fetch(), ""
    if value is None:
        return _config_default(request, f"tag {tag} has no {POLICY_KEY}")
    rules = parse_policy(value, tag)
    rule = select(rules, tag, request.arch, request.method)
    if rule is None:
        return _config_default(request, f"no rule of tag {tag}'s policy matched{note}")
    return ImageChoice(rule.image, f"hub policy of tag {tag}: {rule.describe()}{note}",
                       rule.as_dict())


@hookimpl(trylast=True)
def adjutant_resolve_image(request: ImageRequest) -> ImageChoice:
    return resolve(request)
