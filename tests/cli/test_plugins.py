"""Plugin discovery as a user sees it: ``adjutant plugins`` and a broken third-party plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import adjutant
from tests.support.kojisetup import EXAMPLE


def _install_fake_distribution(site: Path, name: str, module_source: str) -> None:
    """A minimal installed distribution (dist-info + module) on a path we put on PYTHONPATH."""
    module = name.replace("-", "_")
    (site / f"{module}.py").write_text(module_source)
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[adjutant]\n{name} = {module}\n")


@pytest.fixture
def broken_plugin(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    _install_fake_distribution(site, "broken-site-plugin",
                               "raise ImportError('needs libfoo, which is not installed')\n")
    return {"PYTHONPATH": str(site)}


def test_plugins_json_lists_the_three_plugins_with_their_hooks() -> None:
    proc = adjutant("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["podman"]["hooks"] == ["adjutant_config_options",
                                          "adjutant_container_runtimes"]
    assert by_name["docker"]["hooks"] == ["adjutant_config_options",
                                          "adjutant_container_runtimes"]
    assert by_name["git"]["hooks"] == ["adjutant_scm_fetchers"]
    for name in ("podman", "docker", "git"):
        assert by_name[name]["distribution"] == "koji-adjutant"
        assert by_name[name]["version"]
    assert data["failed"] == []


def test_broken_plugin_is_listed_as_failed(broken_plugin: dict[str, str]) -> None:
    proc = adjutant("plugins", "--json", env=broken_plugin)
    assert proc.returncode == 0, proc.stderr
    failed = json.loads(proc.stdout)["failed"]
    assert failed == [{
        "name": "broken-site-plugin",
        "distribution": "broken-site-plugin",
        "target": "broken_site_plugin",
        "error": "ImportError: needs libfoo, which is not installed",
    }]


@pytest.mark.engine
def test_a_build_still_works_beside_a_broken_plugin(broken_plugin: dict[str, str],
                                                   tmp_path: Path) -> None:
    proc = adjutant("build", EXAMPLE, "-o", tmp_path, env=broken_plugin)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "adjutant-hello-1.0-1.noarch.rpm").exists()
    assert "broken-site-plugin" in proc.stderr  # the failure is reported, not hidden


def test_strict_switch_makes_a_broken_plugin_fatal(broken_plugin: dict[str, str]) -> None:
    proc = adjutant("plugins", env={**broken_plugin, "ADJUTANT_PLUGINS_STRICT": "1"})
    assert proc.returncode != 0
    assert "plugin 'broken-site-plugin'" in proc.stderr
    assert "needs libfoo" in proc.stderr


def test_block_list_keeps_a_plugin_out(broken_plugin: dict[str, str]) -> None:
    proc = adjutant("plugins", "--json", "-p", "no:broken-site-plugin", "-p", "no:docker",
                    env=broken_plugin)
    data = json.loads(proc.stdout)
    names = {p["name"] for p in data["plugins"]}
    assert "docker" not in names and "podman" in names
    assert data["failed"] == []


def test_allow_list_loads_only_the_named_entry_points() -> None:
    proc = adjutant("plugins", "--json", env={"ADJUTANT_PLUGINS_ALLOW": "git"})
    names = {p["name"] for p in json.loads(proc.stdout)["plugins"] if not p["builtin"]}
    assert names == {"git"}
