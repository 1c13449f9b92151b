"""The rpm macros of a build: from the hub and the config, never from the image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import koji


def build_macros(options: Any, build_config: Mapping[str, Any], arch: str) -> dict[str, str]:
    """``%vendor``, ``%packager``, ``%distribution`` from config, ``%_host*`` for ``arch``,
    then the tag's ``rpm.macro.NAME`` extras (which win, as they do for kojid)."""
    canon = koji.canonArch(arch) if arch != "noarch" else "noarch"
    host_cpu = canon if canon != "noarch" else "x86_64"
    macros = {
        "vendor": options.vendor,
        "packager": options.packager,
        "distribution": options.distribution,
        "_host_cpu": host_cpu,
        "_host": f"{host_cpu}-{options.mockhost}",
    }
    for key, value in (build_config.get("extra") or {}).items():
        if key.startswith("rpm.macro.") and value is not None:
            macros[key[len("rpm.macro."):]] = str(value)
    return macros
