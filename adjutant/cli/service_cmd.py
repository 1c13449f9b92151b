"""``adjutant service-unit``: the systemd unit for this installation, on stdout."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "service-unit", help="print the systemd unit for this installation",
        description="Print the koji-adjutant systemd unit (kojid's habits: --fg "
                    "--force-lock --verbose, reload = graceful restart by SIGUSR1), its "
                    "ExecStart naming this installation's adjutant. Install it with: "
                    "adjutant service-unit > /etc/systemd/system/koji-adjutant.service")
    p.add_argument("--program", help="the adjutant program ExecStart runs (default: this "
                                     "installation's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adjutant.deploy import installed_program, unit_text

    print(unit_text(args.program or installed_program()), end="")
    return 0
