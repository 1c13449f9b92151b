"""The build tag's rpm.env.* and mock.* settings: each key's meaning in a container build."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import koji
import pytest

from adjutant.plugin import BuildrootRequest
from adjutant.worker.buildroot import install_environment, repo_file
from adjutant.worker.tagsettings import NOT_APPLICABLE, tag_settings


def settings(**extra: Any) -> Any:
    return tag_settings({"name": "f-build", "extra": extra})


def request(**install: str) -> BuildrootRequest:
    return BuildrootRequest(base_image="img", base_image_id="sha256:1", arch="x86_64",
                            repo_id=7, repo_url="file:///repo", groups=("build",),
                            install_options=install)


def test_a_tag_without_extras_asks_nothing() -> None:
    empty = tag_settings({"name": "f-build", "extra": {}})
    assert (dict(empty.environment), dict(empty.install), empty.notes) == ({}, {}, ())
    assert tag_settings(None).install == {}


def test_rpm_env_becomes_the_build_environment_as_strings() -> None:
    found = settings(**{"rpm.env.ACME": 1, "rpm.env.LANG": "C", "rpm.macro.dist": ".x"})
    assert found.environment == {"ACME": "1", "LANG": "C"}
    where = "in the environment of the buildroot install and the build"
    assert found.notes == (f"tag setting rpm.env.ACME: {where}",
                           f"tag setting rpm.env.LANG: {where}")


@pytest.mark.parametrize("name", ["1ACME", "A-B", "A B", ""])
def test_rpm_env_with_a_bad_name_fails_naming_the_key(name: str) -> None:
    with pytest.raises(koji.BuildError, match=f"rpm.env.{name} = 'x' cannot be honoured: "
                       "the part after rpm.env. must be an environment variable name"):
        settings(**{f"rpm.env.{name}": "x"})


@pytest.mark.parametrize("manager", ["dnf", "dnf5", "yum", "microdnf"])
def test_mock_package_manager_picks_the_installer(manager: str) -> None:
    found = settings(**{"mock.package_manager": manager})
    assert found.install == {"package_manager": manager}
    assert install_environment(request(**found.install)) == \
        {"ADJUTANT_PACKAGE_MANAGER": manager}
    assert found.notes == (f"tag setting mock.package_manager = {manager!r}: the buildroot "
                           f"is installed with {manager}",)


def test_an_unknown_package_manager_is_refused() -> None:
    with pytest.raises(koji.BuildError, match=re.escape(
            "mock.package_manager = 'apt' cannot be honoured: expected one of dnf, dnf5, "
            "yum, microdnf; fix it with koji edit-tag")):
        settings(**{"mock.package_manager": "apt"})


def test_mock_yum_module_hotfixes_goes_into_the_repo_file() -> None:
    found = settings(**{"mock.yum.module_hotfixes": 1})
    assert found.module_hotfixes and found.install == {"module_hotfixes": "1"}
    assert "module_hotfixes=1\n" in repo_file(request(**found.install), "file:///repo")
    assert "module_hotfixes" not in repo_file(request(), "file:///repo")
    off = settings(**{"mock.yum.module_hotfixes": False})
    assert off.install == {} and off.notes[0].endswith("false: nothing to do")


def test_mock_yum_best_asks_the_install_for_the_best_candidates() -> None:
    assert settings(**{"mock.yum.best": 1}).install == {"best": "1"}
    assert install_environment(request(best="1")) == {"ADJUTANT_PM_OPTS": "--setopt=best=True"}
    assert settings(**{"mock.yum.best": 0}).install == {}
    with pytest.raises(koji.BuildError, match="expected an integer"):
        settings(**{"mock.yum.best": "yes"})


def test_mock_releasever_is_the_installs_release_version() -> None:
    found = settings(**{"mock.releasever": "9"})
    assert found.install == {"releasever": "9"}
    assert install_environment(request(**found.install)) == \
        {"ADJUTANT_PM_OPTS": "--releasever=9"}
    with pytest.raises(koji.BuildError, match="expected a release version"):
        settings(**{"mock.releasever": "9 --nogpgcheck"})


def test_mock_module_setup_commands_run_before_the_install() -> None:
    found = settings(**{"mock.module_setup_commands": [["enable", "nodejs:18, ruby:3.1"],
                                                       ["disable", "php"]]})
    assert found.install == {"module_setup": "enable nodejs:18 ruby:3.1\ndisable php"}
    assert install_environment(request(**found.install)) == \
        {"ADJUTANT_MODULE_SETUP": "enable nodejs:18 ruby:3.1\ndisable php"}


@pytest.mark.parametrize("value, what", [
    ("enable nodejs", "expected a list of [command, modules] pairs"),
    ([["enable"]], "is not a [command, modules] pair"),
    ([["frobnicate", "x"]], "module command 'frobnicate' is not one of"),
    ([["enable", "--nogpgcheck"]], "is not a list of module specs"),
    ([["enable", " "]], "is not a list of module specs"),
])
def test_malformed_module_setup_commands_are_refused(value: Any, what: str) -> None:
    with pytest.raises(koji.BuildError, match=what.replace("[", r"\[")):
        settings(**{"mock.module_setup_commands": value})


@pytest.mark.parametrize("key", sorted(NOT_APPLICABLE))
def test_mock_settings_without_a_container_meaning_are_named(key: str) -> None:
    found = settings(**{key: 1})
    assert found.install == {} and found.environment == {}
    assert found.notes == (f"tag setting {key} = 1: not applicable in a container buildroot "
                           f"({NOT_APPLICABLE[key]})",)


def test_a_mock_setting_kojid_does_not_know_is_named_too() -> None:
    assert settings(**{"mock.chroot_additional_packages": "x"}).notes == (
        "tag setting mock.chroot_additional_packages = 'x': not applicable in a container "
        "buildroot (kojid does not read it either)",)


def test_install_options_are_part_of_the_buildroot_key_only_when_set() -> None:
    plain = request()
    assert plain.key == BuildrootRequest(
        base_image="img", base_image_id="sha256:1", arch="x86_64", repo_id=7,
        repo_url="file:///repo", groups=("build",)).key
    assert request(module_hotfixes="1").key != plain.key
    assert request(package_manager="yum").key != request(package_manager="dnf").key


def test_rpm_env_is_the_install_environment_too_and_part_of_the_key() -> None:
    plain = request(package_manager="dnf5")
    with_env = dataclasses.replace(plain, environment={"ACME": "1",
                                                       "ADJUTANT_PACKAGE_MANAGER": "yum"})
    # The tag's variables are there; the install options' own variables win over them.
    assert install_environment(with_env) == {"ACME": "1", "ADJUTANT_PACKAGE_MANAGER": "dnf5"}
    assert with_env.key != plain.key
    assert dataclasses.replace(plain, environment={}).key == plain.key
