"""Building a foreign arch under qemu-user: which arches, which packages, how much slower.

A host announces the arches it emulates (``[adjutant] emulated_arches``, and the same
arches on the hub's host entry). A build for one of them runs every container of the task
as that platform; its timeouts are multiplied (``emulation_timeout_factor``, or
``emulation_timeout_factor_ARCH``). Packages that must build natively are named by
pattern in config (``emulation_deny``, ``emulation_allow``) or in the build tag's extra
(``adjutant_emulation_deny``, ``adjutant_emulation_allow``); a host refuses their
emulated builds, so the hub gives them to a native host.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adjutant.container.binfmt import handler_problem, runs_natively
from adjutant.container.platforms import Platform, UnknownArch, host_arch, platform_of
from adjutant.settings import WorkerSettings

#: Build tag extras naming packages by pattern (a list, or a space-separated string).
DENY_EXTRA = "adjutant_emulation_deny"
ALLOW_EXTRA = "adjutant_emulation_allow"


class NotBuiltHere(Exception):
    """This host does not build the arch at all (foreign and not emulated)."""


@dataclass(frozen=True)
class Emulation:
    """How a task's containers run when its arch is emulated on this host."""

    platform: Platform
    host: str
    timeout_factor: float

    def scaled(self, seconds: float | None) -> float | None:
        """A container timeout stretched for emulation (None stays unbounded)."""
        return None if seconds is None else seconds * self.timeout_factor

    def describe(self) -> str:
        """The line root.log gets: what ran emulated, how, and its longer timeouts."""
        return (f"emulated build: {self.platform.arch} containers ({self.platform.platform}) "
                f"run under qemu-user on this {self.host} host; timeouts are "
                f"x{self.timeout_factor:g}")


def emulation_for(settings: WorkerSettings, arch: str, local: bool = False) \
        -> Emulation | None:
    """None when this host runs ``arch`` natively (``noarch`` included), else how it
    emulates it. A worker emulates only the arches of ``emulated_arches`` (checked at
    start-up); a packager's build (``local``: ``adjutant build --arch``) any arch whose
    qemu-user handler is registered. Raises NotBuiltHere naming the arch and the fix."""
    if arch == "noarch":
        return None
    try:
        platform = platform_of(arch)
    except UnknownArch as exc:
        raise NotBuiltHere(str(exc)) from None
    if runs_natively(platform):
        return None
    if local:
        problem = handler_problem(platform)
        if problem:
            raise NotBuiltHere(f"cannot build {platform.arch} on this {host_arch()} host: "
                               f"{problem}")
    elif platform.arch not in settings.emulated_arches:
        raise NotBuiltHere(
            f"this {host_arch()} host does not build {platform.arch}: it is not in "
            f"[adjutant] emulated_arches ({' '.join(settings.emulated_arches) or 'empty'})")
    factor = settings.emulation_timeout_factor_by_arch.get(
        platform.arch, settings.emulation_timeout_factor)
    return Emulation(platform, host_arch(), factor)


def _patterns(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return []


def _match(name: str, patterns: Iterable[str]) -> str | None:
    return next((p for p in patterns if fnmatch.fnmatchcase(name, p)), None)


def emulation_refusal(settings: WorkerSettings, build_config: Mapping[str, Any] | None,
                      package: str, arch: str) -> str | None:
    """Why ``package`` must not be built emulated for ``arch``, or None when it may.

    Deny patterns (config, then the tag's extra) win; then, when any allow list is set,
    the package must match one of its patterns.
    """
    extra = (build_config or {}).get("extra") or {}
    where = f"build tag {build_config['name']}" if build_config else "the build tag"
    for patterns, source in ((settings.emulation_deny, "[adjutant] emulation_deny"),
                             (_patterns(extra.get(DENY_EXTRA)), f"{where}'s {DENY_EXTRA}")):
        hit = _match(package, patterns)
        if hit:
            return (f"{package} must build natively for {arch}: it matches {hit!r} of "
                    f"{source}")
    allows = [(settings.emulation_allow, "[adjutant] emulation_allow"),
              (_patterns(extra.get(ALLOW_EXTRA)), f"{where}'s {ALLOW_EXTRA}")]
    lists = [(patterns, source) for patterns, source in allows if patterns]
    if lists and not any(_match(package, patterns) for patterns, _source in lists):
        names = " and ".join(source for _patterns_, source in lists)
        return f"{package} must build natively for {arch}: it is not in {names}"
    return None
