"""Which arches a package builds for in a tag (the parent build task's choice)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import koji
import koji.util

from adjutant.rpm.header import RpmInfo

log = logging.getLogger(__name__)


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


def subtask_arch(arch: str, build_config: Mapping[str, Any], header: RpmInfo | None = None,
                 literal: str = "",
                 choose: Callable[[Sequence[str]], str] = random.choice) -> str:
    """The task arch of a subtask that builds for ``arch``: the arch the hub schedules it
    by (kojid's choice, so that the same hosts take it).

    An arch matching ``literal`` stays as given, any other arch but noarch is made
    canonical. A noarch subtask may run on any host, unless the package's ``ExclusiveArch``
    or ``ExcludeArch`` (``header``, the SRPM's, when there is one) or the tag's
    ``extra.noarch_arches`` rule out some of the tag's arches: then it is pinned to one
    of the arches left, picked by ``choose`` so that such builds spread over them.
    Raises BuildError when no arch is left.
    """
    if literal and koji.util.multi_fnmatch(arch, literal):
        return arch
    if arch != "noarch":
        return str(koji.canonArch(arch))
    exclusive = [koji.canonArch(a) for a in header.exclusivearch] if header else []
    exclude = [koji.canonArch(a) for a in header.excludearch] if header else []
    noarch_arches = ((build_config.get("extra") or {}).get("noarch_arches") or "").split()
    if not (exclusive or exclude or noarch_arches):
        return "noarch"
    tag_arches = [koji.canonArch(a) for a in (build_config.get("arches") or "").split()]
    allowed = [a for a in map(koji.canonArch, noarch_arches) if a in tag_arches] \
        if noarch_arches else list(tag_arches)
    allowed = [a for a in allowed
               if (not exclusive or a in exclusive) and a not in exclude]
    if not allowed:
        raise koji.BuildError(
            f"no arch is left for a noarch task of tag {build_config.get('name')}: tag "
            f"arches {' '.join(tag_arches) or '-'}, noarch_arches "
            f"{' '.join(noarch_arches) or '-'}, ExclusiveArch {' '.join(exclusive) or '-'}, "
            f"ExcludeArch {' '.join(exclude) or '-'}")
    if set(allowed) == set(tag_arches):
        return "noarch"
    choices = sorted(set(allowed))
    chosen = choose(choices)
    log.info("noarch task pinned to %s (allowed: %s)", chosen, " ".join(choices))
    return chosen
