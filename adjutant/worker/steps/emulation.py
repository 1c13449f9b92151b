"""The emulated-build step: a package that must build natively is not built here."""

from __future__ import annotations

import koji

from adjutant.worker.context import TaskContext
from adjutant.worker.emulation import emulation_refusal


def refuse_emulated(ctx: TaskContext, package: str) -> None:
    """Fail an emulated build of a package that must build natively (the host refuses
    such tasks before opening them; this catches one it was handed anyway)."""
    if ctx.emulation is None:
        return
    why = emulation_refusal(ctx.settings, ctx.build_config, package,
                            ctx.emulation.platform.arch)
    if why:
        raise koji.BuildError(f"{why}; a native {ctx.emulation.platform.arch} host must "
                              "build it")
