"""Emulated arches: the arch table, the binfmt check, their config, the native-only policy,
the image default by arch and what an emulated task's containers get."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from adjutant.config import ConfigError, load_config
from adjutant.container.binfmt import handler_problem, runs_natively
from adjutant.container.platforms import (
    UnknownArch,
    canonical,
    from_oci,
    host_arch,
    platform_of,
)
from adjutant.plugin.manager import load_plugins
from adjutant.policy.resolver import config_default
from adjutant.worker.emulation import (
    Emulation,
    NotBuiltHere,
    emulation_for,
    emulation_refusal,
)

pytestmark = pytest.mark.skipif(host_arch() != "x86_64", reason="written for an x86_64 host")

BASE = "[kojid]\nserver = http://hub.example/kojihub\ntopurl = http://hub.example/kojifiles\n"


def config(tmp_path: Path, adjutant: str) -> Any:
    path = tmp_path / "kojid.conf"
    path.write_text(BASE + "[adjutant]\n" + adjutant)
    return load_config(path)


def settings(tmp_path: Path, adjutant: str = "") -> Any:
    return config(tmp_path, adjutant).settings(load_plugins())


# -- the arch table ----------------------------------------------------------------------

def test_koji_arches_map_to_oci_and_debian_names() -> None:
    arm = platform_of("aarch64")
    assert (arm.oci, arm.debian, arm.qemu, arm.platform) == \
        ("arm64", "arm64", "aarch64", "linux/arm64")
    assert platform_of("ppc64le").debian == "ppc64el"
    assert platform_of("i686").arch == "i386" and canonical("athlon") == "i386"
    assert from_oci("arm64") == "aarch64" and from_oci("amd64") == "x86_64"
    assert from_oci("mips") is None


def test_each_platform_arch_is_its_own_canonical_arch_in_koji() -> None:
    """canonical() answers a table key without importing koji; koji must agree."""
    import koji

    from adjutant.container.platforms import _TABLE

    for arch in _TABLE:
        assert koji.canonArch(arch) == arch == canonical(arch)


def test_an_unknown_arch_names_the_known_ones() -> None:
    with pytest.raises(UnknownArch, match="no container platform is known for arch 'vax'; "
                                          "known: aarch64 armhfp i386"):
        platform_of("vax")


# -- binfmt ------------------------------------------------------------------------------

def binfmt(tmp_path: Path, entry: str | None = "enabled\ninterpreter /q\nflags: PF\n",
           status: str = "enabled", mounted: bool = True) -> Path:
    root = tmp_path / "binfmt_misc"
    root.mkdir()
    if mounted:
        (root / "register").write_text("")
        (root / "status").write_text(status + "\n")
    if entry is not None:
        (root / "qemu-aarch64").write_text(entry)
    return root


def test_a_registered_fix_binary_handler_passes(tmp_path: Path) -> None:
    assert handler_problem(platform_of("aarch64"), binfmt(tmp_path)) is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mounted": False, "entry": None}, "aarch64: binfmt_misc is not mounted at .* mount -t "
                                        "binfmt_misc binfmt_misc"),
    ({"status": "disabled"}, "binfmt_misc is disabled on this host; as root: echo 1 >"),
    ({"entry": None}, "aarch64: no qemu-user handler is registered for it .*apt-get install "
                      "qemu-user-static binfmt-support"),
    ({"entry": "disabled\nflags: F\n"}, "registered but disabled; as root: update-binfmts "
                                        "--enable qemu-aarch64"),
    ({"entry": "enabled\nflags: P\n"}, "lacks the F \\(fix-binary\\) flag"),
])
def test_each_binfmt_problem_names_the_arch_and_the_fix(tmp_path: Path, kwargs: Any,
                                                         message: str) -> None:
    problem = handler_problem(platform_of("aarch64"), binfmt(tmp_path, **kwargs))
    assert problem is not None
    assert re.search(message, problem), problem


def test_native_arches_need_no_handler(tmp_path: Path) -> None:
    empty = tmp_path / "none"
    assert runs_natively(platform_of("i686"))
    assert handler_problem(platform_of("x86_64"), empty) is None
    assert handler_problem(platform_of("i686"), empty) is None


# -- config ------------------------------------------------------------------------------

def test_emulation_settings_are_parsed_and_canonical(tmp_path: Path) -> None:
    s = settings(tmp_path, "emulated_arches = aarch64 ppc64le aarch64\n"
                           "task_image_default_aarch64 = registry.example/f40:aarch64\n"
                           "emulation_timeout_factor = 3\n"
                           "emulation_timeout_factor_ppc64le = 8.5\n"
                           "emulation_deny = glibc gcc*\nemulation_allow = \n")
    assert list(s.emulated_arches) == ["aarch64", "ppc64le"]
    assert s.task_image_default_by_arch == {"aarch64": "registry.example/f40:aarch64"}
    assert s.emulation_timeout_factor == 3.0
    assert s.emulation_timeout_factor_by_arch == {"ppc64le": 8.5}
    assert list(s.emulation_deny) == ["glibc", "gcc*"] and list(s.emulation_allow) == []


def test_defaults_emulate_nothing(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert list(s.emulated_arches) == [] and s.emulation_timeout_factor == 4.0
    assert s.task_image_default_by_arch == {} and s.emulation_timeout_factor_by_arch == {}


@pytest.mark.parametrize(("text", "message"), [
    ("emulated_arches = vax\n", "emulated_arches = 'vax': no container platform is known"),
    ("emulated_arches = x86_64 aarch64\n", "emulated_arches: x86_64 run natively on this "
                                           "x86_64 host; list only the arches it runs"),
    ("emulated_arches = i686\n", "i386 run natively"),
    ("task_image_default_vax = x\n", "task_image_default_vax = 'x': no container platform"),
    ("emulation_timeout_factor = 0.5\n", "expected a number of at least 1"),
    ("emulation_timeout_factor_s390x = fast\n", "emulation_timeout_factor_s390x = 'fast': "
                                                "expected a number"),
    ("task_image_defaults = x\n", "unknown option 'task_image_defaults'"),
])
def test_bad_emulation_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config(tmp_path, text)
    assert message in str(caught.value)


# -- which arches this host builds, and how ------------------------------------------------

def test_native_and_noarch_tasks_are_not_emulated(tmp_path: Path) -> None:
    s = settings(tmp_path, "emulated_arches = aarch64\n")
    assert emulation_for(s, "x86_64") is None and emulation_for(s, "noarch") is None
    assert emulation_for(s, "i686") is None


def test_an_emulated_arch_gets_its_platform_and_factor(tmp_path: Path) -> None:
    s = settings(tmp_path, "emulated_arches = aarch64 s390x\nemulation_timeout_factor = 5\n"
                           "emulation_timeout_factor_s390x = 12\n")
    arm = emulation_for(s, "aarch64")
    assert isinstance(arm, Emulation) and arm.platform.platform == "linux/arm64"
    assert arm.timeout_factor == 5 and arm.scaled(100.0) == 500.0 and arm.scaled(None) is None
    assert "aarch64 containers (linux/arm64) run under qemu-user on this x86_64 host; " \
           "timeouts are x5" in arm.describe()
    s390 = emulation_for(s, "s390x")
    assert s390 is not None and s390.timeout_factor == 12


def test_a_foreign_arch_not_emulated_is_not_built_here(tmp_path: Path) -> None:
    s = settings(tmp_path, "emulated_arches = s390x\n")
    with pytest.raises(NotBuiltHere, match="this x86_64 host does not build aarch64: it is "
                                           r"not in \[adjutant\] emulated_arches \(s390x\)"):
        emulation_for(s, "aarch64")


# -- packages that must build natively -----------------------------------------------------

def tag(extra: dict[str, Any]) -> dict[str, Any]:
    return {"name": "f40-build", "extra": extra}


def test_deny_patterns_from_config_and_tag(tmp_path: Path) -> None:
    s = settings(tmp_path, "emulation_deny = glibc gcc*\n")
    assert emulation_refusal(s, tag({}), "bash", "aarch64") is None
    assert emulation_refusal(s, tag({}), "gcc-toolset", "aarch64") == \
        "gcc-toolset must build natively for aarch64: it matches 'gcc*' of [adjutant] " \
        "emulation_deny"
    by_tag = emulation_refusal(s, tag({"adjutant_emulation_deny": ["kernel*"]}),
                               "kernel-rt", "aarch64")
    assert by_tag == "kernel-rt must build natively for aarch64: it matches 'kernel*' of " \
                     "build tag f40-build's adjutant_emulation_deny"
    assert emulation_refusal(s, tag({"adjutant_emulation_deny": "llvm rust"}), "rust",
                             "aarch64") is not None


def test_an_allow_list_admits_only_its_packages(tmp_path: Path) -> None:
    s = settings(tmp_path, "emulation_allow = python3-*\n")
    assert emulation_refusal(s, tag({}), "python3-six", "ppc64le") is None
    assert emulation_refusal(s, tag({}), "bash", "ppc64le") == \
        "bash must build natively for ppc64le: it is not in [adjutant] emulation_allow"
    both = tag({"adjutant_emulation_allow": "bash"})
    assert emulation_refusal(s, both, "bash", "ppc64le") is None
    # A deny pattern wins over an allow.
    denied = tag({"adjutant_emulation_allow": "bash", "adjutant_emulation_deny": "ba*"})
    assert "matches 'ba*'" in str(emulation_refusal(s, denied, "bash", "ppc64le"))


# -- the image default by arch --------------------------------------------------------------

def test_the_config_default_follows_the_arch_containers_run_as(tmp_path: Path) -> None:
    s = settings(tmp_path, "emulated_arches = aarch64\n"
                           "task_image_default_aarch64 = registry.example/el9:aarch64\n"
                           "task_image_default_x86_64 = registry.example/el9:x86_64\n")
    adj = s.adjutant_settings
    emulated = config_default(adj, "aarch64", emulated=True)
    assert (emulated.image, emulated.source) == \
        ("registry.example/el9:aarch64", "config task_image_default_aarch64")
    # A createrepo of the aarch64 repo runs natively: the arch is only data there.
    assert config_default(adj, "aarch64", emulated=False).image == "registry.example/el9:x86_64"
    plain = dataclasses.replace(s, adjutant_settings={**adj, "task_image_default_by_arch": {}})
    assert config_default(plain.adjutant_settings, "aarch64", emulated=True).source == \
        "config task_image_default"


def test_adjutants_own_default_has_an_image_per_arch(tmp_path: Path) -> None:
    from adjutant.image.default import DEFAULT_IMAGE, default_image_arch, default_image_ref

    s = settings(tmp_path, f"emulated_arches = aarch64\ntask_image_default = {DEFAULT_IMAGE}\n")
    choice = config_default(s.adjutant_settings, "aarch64", emulated=True)
    assert choice.image == default_image_ref("aarch64") == f"{DEFAULT_IMAGE}-aarch64"
    assert "adjutant's default image for aarch64" in choice.source
    assert config_default(s.adjutant_settings, "x86_64", emulated=False).image == DEFAULT_IMAGE
    assert default_image_ref("x86_64") == DEFAULT_IMAGE
    assert default_image_arch(f"{DEFAULT_IMAGE}-aarch64") == "aarch64"
    assert default_image_arch(DEFAULT_IMAGE) == "x86_64"
    assert default_image_arch(f"{DEFAULT_IMAGE}-vax") is None
    assert default_image_arch("registry.example/el9:aarch64") is None
