"""docs/admin.md names only options, labels and files that exist."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from adjutant.config import ADJUTANT_OPTIONS, KOJID_OPTIONS, PER_ARCH_OPTIONS
from adjutant.container.platforms import UnknownArch, platform_of
from adjutant.plugin.manager import LoadOptions, load_plugins
from adjutant.worker.labels import HOST_LABEL, TASK_LABEL

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "admin.md").read_text()


def adjutant_keys() -> set[str]:
    plugins = load_plugins(LoadOptions())
    return set(ADJUTANT_OPTIONS) | {opt.name for opt in plugins.config_options()}


def is_per_arch_key(name: str) -> bool:
    """``task_image_default_aarch64``: a per-arch option for an arch adjutant knows."""
    for option in PER_ARCH_OPTIONS:
        if name.startswith(f"{option}_"):
            try:
                platform_of(name[len(option) + 1:])
            except UnknownArch:
                return False
            return True
    return False


def test_ini_examples_use_known_keys() -> None:
    blocks = re.findall(r"```ini\n(.*?)```", GUIDE, re.DOTALL)
    checked = 0
    for block in blocks:
        # strict=False: a systemd drop-in repeats ExecStart= (clear, then set).
        parser = configparser.ConfigParser(interpolation=None, strict=False,
                                           inline_comment_prefixes=(";",))
        parser.read_string(block)
        if parser.has_section("adjutant"):
            assert {k for k in parser["adjutant"] if not is_per_arch_key(k)} \
                <= adjutant_keys()
            checked += 1
    assert checked


def test_option_names_in_backquotes_exist() -> None:
    named = set(re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", GUIDE))
    known = adjutant_keys() | set(KOJID_OPTIONS)
    # Words in backquotes that are not options: hooks, tag extras, tools.
    others = {"adjutant_resolve_image", "adjutant_image_policy", "default_ulimits",
              "virt_use_nfs", "log_driver", "createrepo_c", "mergerepo_c", "tag_arch", "task_type",
              "adjutant_emulation_deny", "adjutant_emulation_allow", "uname",
              "noarch_arches"}
    unknown = {n for n in named - others - known if not is_per_arch_key(n)}
    assert not unknown, sorted(unknown)


def test_label_names_are_the_workers() -> None:
    assert f"label={TASK_LABEL}=" in GUIDE and f"label={HOST_LABEL}=" in GUIDE


def test_files_it_points_to_exist() -> None:
    for path in re.findall(r"`((?:packaging|scripts)/[\w./-]+)", GUIDE):
        assert (ROOT / path).exists(), path
