"""The built-in resolver against the fake hub: policies from tag data, cache, explain."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adjutant.plugin import ImageRequest
from adjutant.policy.errors import PolicyError
from adjutant.policy.resolver import resolve
from tests.support.cli import adjutant
from tests.support.fakehub import FakeHub

F40 = {"rules": [
    {"type": "tag_arch", "tag": "f40-build", "arch": "aarch64", "image": "img/f40-arm"},
    {"type": "tag", "tag": "f40-*", "image": "img/f40"},
    {"type": "default", "image": "img/f40-default"},
]}
EL9 = {"rules": [{"type": "task_type", "method": "createrepo", "image": "img/el9-repo"},
                 {"type": "default", "image": "img/el9"}]}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub(tmp_path / "topdir") as fake:
        fake.add_tag("f40-base", extra={"adjutant_image_policy": json.dumps(F40)})
        fake.add_tag("f40-build", parents=["f40-base"])  # inherits the policy
        fake.add_tag("el9-build", extra={"adjutant_image_policy": EL9})
        fake.add_tag("plain-build")
        fake.add_tag("broken-build", extra={"adjutant_image_policy": "{\"rules\": [{\"type\""})
        yield fake


def settings(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"policy_enabled": True, "policy_cache_ttl": 300, "cache_dir": str(tmp_path / "c"),
            "task_image_default": "img/config-default", **extra}


def request(hub: FakeHub, tmp_path: Path, tag: str, arch: str = "x86_64",
            method: str = "buildArch", **extra: Any) -> ImageRequest:
    return ImageRequest(method=method, arch=arch, tag=tag, session=hub.client(),
                        settings=settings(tmp_path, **extra))


def test_two_tags_with_different_policies_get_different_images(hub: FakeHub,
                                                               tmp_path: Path) -> None:
    assert resolve(request(hub, tmp_path, "f40-build")).image == "img/f40"
    assert resolve(request(hub, tmp_path, "el9-build")).image == "img/el9"


def test_each_precedence_level(hub: FakeHub, tmp_path: Path) -> None:
    cases = [
        ("f40-build", "aarch64", "buildArch", "img/f40-arm", "tag_arch"),
        ("f40-build", "x86_64", "buildArch", "img/f40", "tag"),
        ("el9-build", "x86_64", "createrepo", "img/el9-repo", "task_type"),
        ("el9-build", "x86_64", "buildArch", "img/el9", "default"),
        ("plain-build", "x86_64", "buildArch", "img/config-default", None),
    ]
    for tag, arch, method, image, kind in cases:
        choice = resolve(request(hub, tmp_path, tag, arch, method))
        assert choice.image == image, (tag, arch, method)
        assert (choice.rule or {}).get("type") == kind
    off = resolve(request(hub, tmp_path, "f40-build", policy_enabled=False))
    assert off.image == "img/config-default" and "policy_enabled is off" in off.source


def test_the_cache_answers_within_the_ttl_and_refreshes_after_it(hub: FakeHub,
                                                                 tmp_path: Path) -> None:
    first = resolve(request(hub, tmp_path, "f40-build", policy_cache_ttl=1))
    calls = hub.calls["getBuildConfig"]
    for _ in range(5):
        cached = resolve(request(hub, tmp_path, "f40-build", policy_cache_ttl=1))
    assert hub.calls["getBuildConfig"] == calls
    assert cached.image == first.image and "(cached)" in cached.source
    time.sleep(1.1)
    refreshed = resolve(request(hub, tmp_path, "f40-build", policy_cache_ttl=1))
    assert hub.calls["getBuildConfig"] == calls + 1
    assert "(cached)" not in refreshed.source


def test_the_cache_is_shared_with_other_processes(hub: FakeHub, tmp_path: Path) -> None:
    resolve(request(hub, tmp_path, "f40-build"))
    calls = hub.calls["getBuildConfig"]
    program = (
        "import sys, koji\n"
        "from adjutant.plugin import ImageRequest\n"
        "from adjutant.policy.resolver import resolve\n"
        f"s = {settings(tmp_path)!r}\n"
        f"r = ImageRequest(method='buildArch', arch='x86_64', tag='f40-build', "
        f"session=koji.ClientSession({hub.url!r}), settings=s)\n"
        "print(resolve(r).image)\n"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "img/f40"
    assert hub.calls["getBuildConfig"] == calls


def test_a_hub_error_uses_the_last_good_policy_and_says_so(hub: FakeHub,
                                                           tmp_path: Path) -> None:
    resolve(request(hub, tmp_path, "f40-build", policy_cache_ttl=0.5))
    req = request(hub, tmp_path, "f40-build", policy_cache_ttl=0.5)
    time.sleep(0.6)
    hub.stop()
    choice = resolve(req)
    assert choice.image == "img/f40"
    assert "hub error while refreshing" in choice.source


def test_a_malformed_policy_is_an_error_naming_the_tag(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="tag broken-build: extra adjutant_image_policy is "
                                          "not valid JSON"):
        resolve(request(hub, tmp_path, "broken-build"))


def _config(hub: FakeHub, tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "kojid.conf"
    path.write_text(f"[kojid]\nserver = {hub.url}\ntopurl = {hub.topurl}\n\n[adjutant]\n"
                    f"cache_dir = {tmp_path / 'cache'}\n{extra}")
    return path


def test_explain_names_the_tag_arch_rule_and_the_image(hub: FakeHub, tmp_path: Path) -> None:
    proc = adjutant("policy", "explain", "-c", _config(hub, tmp_path), "--tag", "f40-build",
                    "--arch", "aarch64")
    assert proc.returncode == 0, proc.stderr
    assert "matched: hub policy of tag f40-build: rule 1 (tag_arch: tag=f40-build " \
           "arch=aarch64)" in proc.stdout
    assert "image:   img/f40-arm" in proc.stdout


def test_explain_reports_a_malformed_policy(hub: FakeHub, tmp_path: Path) -> None:
    proc = adjutant("policy", "explain", "-c", _config(hub, tmp_path), "--tag", "broken-build",
                    "--arch", "x86_64")
    assert proc.returncode == 1
    assert "tag broken-build" in proc.stderr and "not valid JSON" in proc.stderr


EXAMPLE_PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "site-image-policy"


def test_the_example_site_plugin_wins_when_installed_and_not_after(
        hub: FakeHub, tmp_path: Path) -> None:
    hub.add_tag("site-f40", parents=["f40-base"])
    config = _config(hub, tmp_path, "site_image_map = site-*=img/site-builder\n")
    site = tmp_path / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(EXAMPLE_PLUGIN)],
                   check=True, capture_output=True)
    env = {"PYTHONPATH": str(site)}
    installed = adjutant("policy", "explain", "-c", config, "--tag", "site-f40", "--arch",
                         "x86_64", env=env)
    assert installed.returncode == 0, installed.stderr
    assert "image:   img/site-builder" in installed.stdout
    assert "site plugin adjutant-site-image-policy" in installed.stdout
    listed = json.loads(adjutant("plugins", "--json", env=env).stdout)
    assert "site-image-policy" in {p["name"] for p in listed["plugins"]}
    # A tag its rule does not match falls through to the built-in resolver.
    other = adjutant("policy", "explain", "-c", config, "--tag", "el9-build", "--arch",
                     "x86_64", env=env)
    assert "image:   img/el9" in other.stdout

    # Uninstalled (not on the path), the built-in answers again; its config key is unknown
    # then, so the config without it is used.
    plain = adjutant("policy", "explain", "-c", _config(hub, tmp_path), "--tag", "site-f40",
                     "--arch", "x86_64")
    assert plain.returncode == 0, plain.stderr
    assert "image:   img/f40" in plain.stdout
