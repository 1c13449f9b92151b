"""kojid.conf + [adjutant]: kojid's defaults, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from adjutant.config import ConfigError, engine_timeouts, load_config
from adjutant.container import EngineTimeouts
from adjutant.plugin import ConfigOption
from tests.support.cli import adjutant

BASE = "[kojid]\nserver = http://hub.example/kojihub\ntopurl = http://hub.example/kojifiles\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kojid.conf"
    path.write_text(text)
    return path


def test_kojid_defaults_and_adjutant_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE))
    assert config.kojid["workdir"] == "/var/tmp/koji"
    assert config.kojid["maxjobs"] == 10 and config.kojid["sleeptime"] == 15
    assert config.kojid["rpmbuild_timeout"] == 86400
    assert config.adjutant["task_image_default"] == "docker.io/almalinux/9-minimal:latest"
    assert config.adjutant["image_pull_policy"] == "if-not-present"
    assert config.adjutant["policy_enabled"] is True
    assert config.adjutant["policy_cache_ttl"] == 300
    assert config.adjutant["buildroot_enabled"] is True
    assert config.adjutant["network_enabled"] is True
    assert config.adjutant["container_timeouts"] == {"pull": 300, "api": 60, "commit": 3600}
    assert engine_timeouts(config.adjutant["container_timeouts"]) == EngineTimeouts(60, 3600)


def test_adjutant_values_are_parsed(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE + (
        "[adjutant]\ncontainer_mounts = /srv/cache:/cache:rw /etc/pki:/etc/pki\n"
        "container_labels = site=brno,tier=prod\ncontainer_timeouts = pull=30,api=5\n"
        "image_pull_policy = Always\n")))
    assert config.adjutant["container_mounts"] == [("/srv/cache", "/cache", True),
                                                   ("/etc/pki", "/etc/pki", False)]
    assert config.adjutant["container_labels"] == {"site": "brno", "tier": "prod"}
    assert config.adjutant["container_timeouts"] == {"pull": 30, "api": 5, "commit": 3600}
    assert config.adjutant["image_pull_policy"] == "always"


@pytest.mark.parametrize(("text", "message"), [
    ("maxjobs = many\n", "[kojid] maxjobs = 'many': expected a whole number"),
    ("[adjutant]\npolicy_enabled = perhaps\n", "policy_enabled = 'perhaps': expected a boolean"),
    ("[adjutant]\nimage_pull_policy = sometimes\n",
     "image_pull_policy 'sometimes' is not one of always, if-not-present, never"),
    ("[adjutant]\ncontainer_timeouts = pull=ten\n", "container_timeouts"),
    ("[adjutant]\ncontainer_timeouts = begin=60\n", "expected pull=N,api=N,commit=N"),
    ("[adjutant]\ncontainer_timeouts = api=0\n", "api must be a positive number of seconds"),
    ("[adjutant]\ncontainer_mounts = relative:/x\n", "expected /host/path:/container/path"),
    ("[adjutant]\nimage_polcy = x\n", "unknown option 'image_polcy'; known options:"),
    ("mockfoo = 1\n", "[kojid] unknown option 'mockfoo'"),
])
def test_a_wrong_value_names_the_key_and_what_it_expects(tmp_path: Path, text: str,
                                                          message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, BASE + text))
    assert message in str(err.value)


def test_plugin_declared_keys_are_accepted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE + "[adjutant]\nmy_engine_url = unix:///x\n"),
                         [ConfigOption("my_engine_url", "unix:///default", "socket")])
    assert config.plugin_options == {"my_engine_url": "unix:///x"}


def test_server_and_topurl_are_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[kojid\] server is required"):
        load_config(write(tmp_path, "[kojid]\ntopurl = http://x/\n"))


def test_adjutant_run_reports_a_bad_value_at_start_up(tmp_path: Path) -> None:
    proc = adjutant("run", "-c", write(tmp_path, BASE + "[adjutant]\nnetwork_enabled = 2\n"))
    assert proc.returncode == 1
    assert "network_enabled = '2': expected a boolean" in proc.stderr


def test_retired_timeout_keys_are_ignored_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = load_config(write(tmp_path, BASE + (
        "[adjutant]\ncontainer_timeouts = pull=300,start=60,stop_grace=20\n")))
    assert config.adjutant["container_timeouts"] == {"pull": 300, "api": 60, "commit": 3600}
    assert "container_timeouts start= is ignored" in caplog.text
    assert "container_timeouts stop_grace= is ignored" in caplog.text


def test_the_settings_repr_shows_no_secret(tmp_path: Path) -> None:
    from adjutant.plugin.manager import load_plugins

    config = load_config(write(tmp_path, BASE + "user = builder1\npassword = hunter2-hub\n"
                                                "smtp_pass = hunter2-smtp\n"))
    settings = config.settings(load_plugins(), host_name="builder1")
    assert settings.password == "hunter2-hub"
    for shown in (repr(settings), str(settings), f"{settings!r}"):
        assert "hunter2" not in shown and "builder1" in shown
