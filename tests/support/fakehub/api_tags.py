"""Tags, build targets, package listings and tagged builds (read side), enough for the
parent ``build`` task and for ``buildArch``/``rebuildSRPM``'s ``getBuildConfig``.

Inheritance is simple: a tag's parents in priority order, walked depth first, no filters or
depth limits. Events are accepted and ignored (everything answers "now").
"""

from typing import Any

from .context import CallContext
from .registry import MethodTable
from .rules import (
    as_int,
    find_build,
    find_tag,
    find_target,
    get_tag,
    inheritance,
    missing,
    tagged_builds,
)
from .state import HubDB, PackageEntry, Tag
from .views import build_info, tag_info, target_info

api = MethodTable()


@api.method("getTag", reads_only=True)
def get_tag_call(
    ctx: CallContext, /, tagInfo: Any, strict: bool = False, event: Any = None,
    blocked: bool = False,
) -> dict[str, Any] | None:
    tag = find_tag(ctx.db, tagInfo)
    if tag is None:
        return missing(strict, f"No such tagInfo: {tagInfo!r}")
    return tag_info(tag)


def build_config(db: HubDB, tag: Tag) -> dict[str, Any]:
    """The tag with ``arches`` and ``extra`` completed through inheritance, plus
    ``config_inheritance`` naming where each inherited value came from."""
    info = tag_info(tag)
    origin: dict[str, Any] = {"extra": {}, "arches": None}
    for ancestor in inheritance(db, tag)[1:]:
        if info["arches"] is None and ancestor.arches is not None:
            info["arches"] = ancestor.arches
            origin["arches"] = {"id": ancestor.id, "name": ancestor.name}
        for key, value in ancestor.extra.items():
            if key not in info["extra"]:
                info["extra"][key] = value
                origin["extra"][key] = {"id": ancestor.id, "name": ancestor.name}
    info["config_inheritance"] = origin
    return info


@api.method("getBuildConfig", reads_only=True)
def get_build_config(ctx: CallContext, /, tag: Any, event: Any = None) -> dict[str, Any]:
    """``getTag`` with arches and extra merged through inheritance; unknown tag → 1000."""
    return build_config(ctx.db, get_tag(ctx.db, tag))


@api.method("getBuildTarget", reads_only=True)
def get_build_target(
    ctx: CallContext, /, info: Any, event: Any = None, strict: bool = False
) -> dict[str, Any] | None:
    """``{id, name, build_tag, build_tag_name, dest_tag, dest_tag_name}``."""
    target = find_target(ctx.db, info)
    if target is None:
        return missing(strict, f"No such build target: {info}")
    return target_info(ctx.db, target)


@api.method("getBuildTargets")
def get_build_targets(
    ctx: CallContext, /, info: Any = None, event: Any = None,
    buildTagID: Any = None, destTagID: Any = None,
    queryOpts: Any = None,
) -> list[dict[str, Any]]:
    rows = []
    for target in sorted(ctx.db.targets.values(), key=lambda t: t.id):
        if info is not None and target is not find_target(ctx.db, info):
            continue
        build_tag = find_tag(ctx.db, buildTagID) if buildTagID is not None else None
        if buildTagID is not None and (build_tag is None or build_tag.id != target.build_tag):
            continue
        dest_tag = find_tag(ctx.db, destTagID) if destTagID is not None else None
        if destTagID is not None and (dest_tag is None or dest_tag.id != target.dest_tag):
            continue
        rows.append(target_info(ctx.db, target))
    return rows


def package_config(db: HubDB, tag: Tag, package: str) -> dict[str, Any] | None:
    """The package's listing as inherited by ``tag`` (nearest tag wins), or None."""
    for source in inheritance(db, tag):
        entry: PackageEntry | None = source.packages.get(package)
        if entry is not None:
            owner = db.users.get(entry.owner_id) if entry.owner_id else None
            return {
                "package_id": db.package_id(package),
                "package_name": package,
                "tag_id": source.id,
                "tag_name": source.name,
                "extra_arches": entry.extra_arches,
                "blocked": entry.blocked,
                "owner_id": entry.owner_id,
                "owner_name": owner.name if owner else None,
            }
    return None


@api.method("getPackageConfig")
def get_package_config(
    ctx: CallContext, /, tag: Any, pkg: Any, event: Any = None
) -> dict[str, Any] | None:
    """The listing of ``pkg`` in ``tag`` through inheritance; unknown tag/package → None."""
    taginfo = find_tag(ctx.db, tag)
    if taginfo is None or not isinstance(pkg, str):
        return None
    return package_config(ctx.db, taginfo, pkg)


@api.method("checkTagPackage")
def check_tag_package(ctx: CallContext, /, tag: Any, pkg: Any) -> bool:
    config = get_package_config(ctx, tag, pkg)
    return config is not None and not config["blocked"]


@api.method("getFullInheritance")
def get_full_inheritance(
    ctx: CallContext, /, tag: Any, event: Any = None, reverse: bool = False
) -> list[dict[str, Any]]:
    """Ancestors (descendants with ``reverse``) as inheritance links."""
    start = get_tag(ctx.db, tag)
    rows: list[dict[str, Any]] = []

    def link(child: Tag, parent: Tag, priority: int, depth: int) -> dict[str, Any]:
        return {"tag_id": child.id, "parent_id": parent.id, "name": parent.name,
                "child_id": child.id, "priority": priority, "maxdepth": None,
                "intransitive": False, "noconfig": False, "pkg_filter": "",
                "currdepth": depth, "nextdepth": None, "filter": []}

    def walk(current: Tag, depth: int, seen: set[int]) -> None:
        if reverse:
            kids = [t for t in ctx.db.tags.values() if current.id in t.parents]
            for kid in sorted(kids, key=lambda t: t.id):
                if kid.id not in seen:
                    seen.add(kid.id)
                    rows.append(link(kid, current, kid.parents.index(current.id) * 10, depth))
                    walk(kid, depth + 1, seen)
            return
        for priority, parent_id in enumerate(current.parents):
            if parent_id not in seen:
                seen.add(parent_id)
                parent = ctx.db.tags[parent_id]
                rows.append(link(current, parent, priority * 10, depth))
                walk(parent, depth + 1, seen)

    walk(start, 1, {start.id})
    return rows


@api.method("listTagged")
def list_tagged(
    ctx: CallContext,
    /,
    tag: Any,
    event: Any = None,
    inherit: bool = False,
    prefix: str | None = None,
    latest: bool = False,
    package: str | None = None,
    owner: Any = None,
    type: str | None = None,
    strict: bool = True,
    extra: bool = False,
    draft: bool | None = None,
) -> list[dict[str, Any]]:
    taginfo = get_tag(ctx.db, tag)
    at = as_int(event, "event") if event is not None else None
    rows = []
    for build, source in tagged_builds(ctx.db, taginfo, bool(inherit), bool(latest), at):
        if package is not None and build.name != package:
            continue
        if prefix is not None and not build.name.startswith(prefix):
            continue
        row = build_info(ctx.db, build)
        row.update(tag_id=source.id, tag_name=source.name)
        rows.append(row)
    return rows


@api.method("getBuild")
def get_build(ctx: CallContext, /, buildInfo: Any, strict: bool = False) -> Any:
    """A build by id, NVR or dict; unknown → None (1000 with ``strict``)."""
    build = find_build(ctx.db, buildInfo)
    if build is None:
        return missing(strict, f"No such build: {buildInfo!r}")
    return build_info(ctx.db, build)
