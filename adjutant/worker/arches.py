"""Which arches a package builds for in a tag (the parent build task's choice)."""

from __future__ import annotations

from collections.abc import Iterable

import koji
import koji.util

from adjutant.rpm.header import RpmInfo


def build_arches(tag_arches: Iterable[str], header: RpmInfo, extra_arches: Iterable[str] = (),
                 override: Iterable[str] = (), literal: str = "") -> list[str]:
    """The arches to build ``header``'s package for, as canonical arches (or ``noarch``).

    ``override`` (a scratch build's ``arch_override``) replaces the tag's arches. Arches
    matching ``literal`` (kojid.conf's ``literal_task_arches``, glob patterns) are kept as
    they are instead of being made canonical (``i686`` stays ``i686``). A package
    whose ``BuildArch`` is only noarch builds once, as noarch; otherwise the candidates are
    narrowed by ``ExclusiveArch`` and ``ExcludeArch``. Raises BuildError when nothing is left.
    """
    candidates = list(dict.fromkeys(override)) or \
        list(dict.fromkeys([*tag_arches, *extra_arches]))
    if not candidates:
        raise koji.BuildError("the build tag has no arches")
    if header.buildarchs and set(header.buildarchs) == {"noarch"}:
        if header.exclusivearch and "noarch" not in header.exclusivearch \
                and not set(header.exclusivearch) & set(candidates):
            raise koji.BuildError(f"{header.nvr} is noarch but ExclusiveArch "
                                  f"({' '.join(header.exclusivearch)}) excludes every tag arch")
        return ["noarch"]
    chosen = []
    for arch in candidates:
        if header.exclusivearch and arch not in header.exclusivearch:
            continue
        if arch in header.excludearch:
            continue
        canon = arch if literal and koji.util.multi_fnmatch(arch, literal) \
            else koji.canonArch(arch)
        if canon not in chosen:
            chosen.append(canon)
    if not chosen:
        raise koji.BuildError(
            f"no arch of the tag ({' '.join(candidates)}) is allowed by {header.nvr}'s "
            f"ExclusiveArch ({' '.join(header.exclusivearch) or '-'}) and ExcludeArch "
            f"({' '.join(header.excludearch) or '-'})")
    return chosen
