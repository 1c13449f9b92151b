"""The shipped systemd unit: kojid's habits (foreground, forced lock, reload = SIGUSR1),
ordered after the container engine, and SIGTERM to the main process only."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from adjutant.testing.engines import skip_or_fail

UNIT = Path(__file__).resolve().parents[2] / "adjutant" / "deploy" / "koji-adjutant.service"
#: Where the host's own unit files are; systemd-analyze resolves dependencies against them.
SYSTEM_UNIT_DIRS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))


def parse_unit(path: Path) -> configparser.ConfigParser:
    """Read a unit file strictly: a repeated key or section, or a line that is not
    ``key=value``, is an error (systemd would take it, but this unit has none)."""
    parser = configparser.ConfigParser(strict=True, interpolation=None,
                                       delimiters=("=",), comment_prefixes=("#", ";"),
                                       empty_lines_in_values=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    with open(path) as fh:
        parser.read_file(fh)
    return parser


@pytest.fixture(scope="module")
def unit() -> configparser.ConfigParser:
    return parse_unit(UNIT)


def words(unit: configparser.ConfigParser, section: str, key: str) -> list[str]:
    return unit.get(section, key).split()


def test_sections_are_the_three_of_a_service(unit: configparser.ConfigParser) -> None:
    assert unit.sections() == ["Unit", "Service", "Install"]


def test_no_value_continues_on_another_line() -> None:
    # configparser would join an indented line to the key above; systemd would not.
    for number, line in enumerate(UNIT.read_text().splitlines(), 1):
        assert not line[:1].isspace() and not line.endswith("\\"), f"line {number}: {line!r}"


def test_runs_in_the_foreground_with_kojids_options(unit: configparser.ConfigParser) -> None:
    assert unit.get("Service", "Type") == "simple"
    assert words(unit, "Service", "ExecStart") == [
        "/usr/bin/adjutant", "run", "--fg", "--force-lock", "--verbose"]


def test_reload_is_a_graceful_restart_by_sigusr1(unit: configparser.ConfigParser) -> None:
    assert words(unit, "Service", "ExecReload") == ["/bin/kill", "-USR1", "$MAINPID"]


def test_restarts_on_failure_only(unit: configparser.ConfigParser) -> None:
    assert unit.get("Service", "Restart") == "on-failure"
    assert unit.get("Service", "RestartSec")


def test_sigterm_reaches_the_main_process_only(unit: configparser.ConfigParser) -> None:
    # mixed: SIGTERM to the main process, which frees its tasks and removes their
    # containers; SIGKILL to what is left only after TimeoutStopSec. "control-group"
    # (the default) would signal every task process at once, "process" would leave them.
    assert unit.get("Service", "KillMode") == "mixed"
    assert unit.get("Service", "KillSignal", fallback="SIGTERM") == "SIGTERM"
    assert unit.get("Service", "TimeoutStopSec")


def test_starts_after_the_network_and_the_engines(unit: configparser.ConfigParser) -> None:
    after = words(unit, "Unit", "After")
    for needed in ("network-online.target", "podman.socket", "podman.service",
                   "docker.service"):
        assert needed in after
    wants = words(unit, "Unit", "Wants")
    assert "network-online.target" in wants and "podman.socket" in wants


def test_never_runs_beside_kojid(unit: configparser.ConfigParser) -> None:
    assert "kojid.service" in words(unit, "Unit", "Conflicts")


def test_enabled_for_the_multi_user_target(unit: configparser.ConfigParser) -> None:
    assert words(unit, "Install", "WantedBy") == ["multi-user.target"]


def test_systemd_analyze_verify_accepts_it(tmp_path: Path) -> None:
    """systemd's own parser: unknown keys and bad values are only warnings to it, so any
    output fails the test. It runs against a root holding the unit, the host's unit files
    and stand-ins for the commands, so no PID 1 systemd and no installed adjutant is needed."""
    analyze = shutil.which("systemd-analyze")
    units = next((d for d in SYSTEM_UNIT_DIRS if (d / "sysinit.target").exists()), None)
    if analyze is None or units is None:
        skip_or_fail("systemd-analyze and systemd's unit files are needed "
                     "(Debian package systemd)")
        return
    root = tmp_path / "root"
    shutil.copytree(units, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, root / "etc/systemd/system" / UNIT.name)
    unit = parse_unit(UNIT)
    for key in ("ExecStart", "ExecReload"):
        program = root / unit.get("Service", key).split()[0].lstrip("/")
        program.parent.mkdir(parents=True, exist_ok=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    proc = subprocess.run([analyze, "verify", "--man=no", f"--root={root}", UNIT.name],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and not (proc.stdout + proc.stderr).strip(), \
        proc.stdout + proc.stderr


def test_service_unit_prints_the_unit_naming_this_installations_program(
        tmp_path: Path) -> None:
    from tests.support.cli import adjutant

    proc = adjutant("service-unit", "--program", "/opt/koji-adjutant/bin/adjutant")
    assert proc.returncode == 0, proc.stderr
    printed = tmp_path / "koji-adjutant.service"
    printed.write_text(proc.stdout)
    assert words(parse_unit(printed), "Service", "ExecStart") == [
        "/opt/koji-adjutant/bin/adjutant", "run", "--fg", "--force-lock", "--verbose"]
    assert proc.stdout.replace("/opt/koji-adjutant/bin/adjutant", "/usr/bin/adjutant") == \
        UNIT.read_text()
