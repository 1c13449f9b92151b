"""Files a deployment installs outside Python (shipped in the wheel): the systemd unit.

``adjutant service-unit`` prints the unit for this installation."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

UNIT_NAME = "koji-adjutant.service"
#: The program the shipped unit names, for a system-wide install.
DEFAULT_PROGRAM = "/usr/bin/adjutant"


def unit_text(program: str | None = None) -> str:
    """The shipped unit; ``program`` (this installation's ``adjutant``) replaces the
    program of its ExecStart line when given."""
    text = (resources.files(__package__) / UNIT_NAME).read_text()
    if program:
        text = text.replace(f"ExecStart={DEFAULT_PROGRAM} ", f"ExecStart={program} ")
    return text


def installed_program() -> str:
    """This installation's ``adjutant`` script (beside the running interpreter), else
    the system-wide path."""
    script = Path(sys.executable).parent / "adjutant"
    return str(script) if script.exists() else DEFAULT_PROGRAM
