"""The worker's configuration: kojid.conf's ``[kojid]`` section plus ``[adjutant]``.

``[kojid]`` keeps kojid's option names and defaults, so an existing kojid.conf works as
it is; options that only make sense for mock are accepted and ignored. ``[adjutant]``
holds the container settings, and plugins add keys to it (``adjutant_config_options``).
A value of the wrong kind, or an unknown key, is a start-up error naming the key and what
it expects.
"""

from __future__ import annotations

import configparser
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from adjutant.plugin.types import EngineTimeouts

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("/etc/kojid/kojid.conf")


class ConfigError(Exception):
    """The configuration is wrong; the message names the file, key and what is expected."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "yes", "true", "on"):
        return True
    if lowered in ("0", "no", "false", "off"):
        return False
    raise ValueError("expected a boolean (yes/no, true/false, on/off, 1/0)")


def _int(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError("expected a whole number") from None


def _float(value: str) -> float:
    try:
        return float(value.strip())
    except ValueError:
        raise ValueError("expected a number") from None


def _positive_int(value: str) -> int:
    number = _int(value)
    if number <= 0:
        raise ValueError("expected a whole number above 0")
    return number


def _positive_float(value: str) -> float:
    number = _float(value)
    if number <= 0:
        raise ValueError("expected a number above 0")
    return number


def _str(value: str) -> str:
    return value


def _words(value: str) -> list[str]:
    return value.split()


@dataclass(frozen=True)
class Option:
    default: Any
    parse: Callable[[str], Any] = _str


# kojid's [kojid] options that matter to a container builder, with kojid's defaults.
KOJID_OPTIONS: Mapping[str, Option] = {
    "server": Option(None), "topurl": Option(None), "topdir": Option("/mnt/koji"),
    "workdir": Option("/var/tmp/koji"), "mockdir": Option("/var/lib/mock"),
    "user": Option(None), "password": Option(None), "cert": Option(None),
    "serverca": Option(None), "krb_principal": Option(None),
    "host_principal_format": Option("compile/%s@EXAMPLE.COM"),
    "keytab": Option("/etc/kojid/kojid.keytab"), "ccache": Option("/var/tmp/kojid.ccache"),
    "no_ssl_verify": Option(False, _bool), "allow_noverifyssl": Option(False, _bool),
    "retry_interval": Option(60, _int), "max_retries": Option(120, _int),
    "offline_retry": Option(True, _bool), "offline_retry_interval": Option(120, _int),
    "timeout": Option(None, _int), "use_fast_upload": Option(True, _bool),
    "maxjobs": Option(10, _positive_int), "sleeptime": Option(15, _positive_int),
    "minspace": Option(8192, _int),
    "vendor": Option("Koji"), "packager": Option("Koji"), "distribution": Option("Koji"),
    "mockhost": Option("koji-linux-gnu"), "rpmbuild_timeout": Option(86400, _positive_int),
    "literal_task_arches": Option(""), "build_arch_can_fail": Option(False, _bool),
    "support_rpm_source_layout": Option(True, _bool),
    "allowed_scms": Option(""), "allowed_scms_use_config": Option(True, _bool),
    "allowed_scms_use_policy": Option(False, _bool), "scm_credentials_dir": Option(None),
    "allow_password_in_scm_url": Option(False, _bool),
    "use_createrepo_c": Option(True, _bool), "createrepo_update": Option(True, _bool),
    "createrepo_skip_stat": Option(True, _bool), "copy_old_repodata": Option(False, _bool),
    "distrepo_skip_stat": Option(False, _bool),
    "buildroot_basic_cleanup_delay": Option(120, _int),
    "buildroot_final_cleanup_delay": Option(86400, _int),
    "failed_buildroot_lifetime": Option(14400, _int),
    "log_timestamps": Option(False, _bool), "log_level": Option(None),
    "admin_emails": Option(None), "smtphost": Option("example.com"),
    "smtp_user": Option(None), "smtp_pass": Option(None),
    "from_addr": Option("Koji Build System <buildsys@example.com>"),
    "plugin": Option([], _words), "plugins": Option([], _words),
    "pluginpath": Option("/usr/lib/koji-builder-plugins"),
    "task_avail_delay": Option(300, _int),
    # Accepted for compatibility with existing kojid.conf files; mock-only, unused here.
    "mockuser": Option("kojibuilder"), "chroot_tmpdir": Option("/chroot_tmpdir"),
    "yum_proxy": Option(None), "mock_bootstrap_image": Option(False, _bool),
    "pkgurl": Option(None), "maven_repo_ignore": Option(""), "oz_install_timeout": Option(0, _int),
    "xz_options": Option("-z6T0"),
}


_TIMEOUT_DEFAULTS = {"pull": 300, "api": 60, "commit": 3600}
#: Keys of container_timeouts that meant nothing; still accepted so that a config
#: written for an earlier release starts, with a warning.
_RETIRED_TIMEOUTS = ("start", "stop_grace")


def _timeouts(value: str) -> dict[str, int]:
    """``pull=N,api=N,commit=N`` (any subset; the rest keep their defaults), N > 0."""
    result = dict(_TIMEOUT_DEFAULTS)
    for item in value.replace(",", " ").split():
        key, sep, number = item.partition("=")
        if sep and key in _RETIRED_TIMEOUTS:
            log.warning("container_timeouts %s= is ignored (it never had an effect); engine "
                        "calls are bounded by api= and commit=", key)
            continue
        if not sep or key not in result:
            raise ValueError(f"expected pull=N,api=N,commit=N (got {item!r})")
        seconds = _int(number)
        if seconds <= 0:
            raise ValueError(f"{key} must be a positive number of seconds (got {number!r})")
        result[key] = seconds
    return result


def engine_timeouts(timeouts: Mapping[str, int]) -> EngineTimeouts:
    """The engine call bounds from a parsed ``container_timeouts`` value."""
    return EngineTimeouts(api=float(timeouts["api"]), commit=float(timeouts["commit"]))


def _mounts(value: str) -> list[tuple[str, str, bool]]:
    """``SRC:DST[:ro|rw]`` separated by spaces or commas; read-only unless ``rw``."""
    mounts = []
    for item in value.replace(",", " ").split():
        parts = item.split(":")
        mode_ok = len(parts) == 2 or (len(parts) == 3 and parts[2] in ("ro", "rw"))
        if not mode_ok or not parts[0].startswith("/") or not parts[1].startswith("/"):
            raise ValueError(f"expected /host/path:/container/path[:ro|rw] (got {item!r})")
        mounts.append((parts[0], parts[1], len(parts) == 3 and parts[2] == "rw"))
    return mounts


def _labels(value: str) -> dict[str, str]:
    labels = {}
    for item in value.replace(",", " ").split():
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value pairs (got {item!r})")
        labels[key] = val
    return labels


def _network_mode(value: str) -> str:
    if value.strip() not in ("bridge", "host"):
        raise ValueError("expected bridge or host")
    return value.strip()


def _pull_policy(value: str) -> str:
    from adjutant.image.availability import PullPolicy

    return PullPolicy.parse(value).value


ADJUTANT_OPTIONS: Mapping[str, Option] = {
    "runtime": Option("podman"),
    "task_image_default": Option("docker.io/almalinux/9-minimal:latest"),
    "image_pull_policy": Option("if-not-present", _pull_policy),
    "policy_enabled": Option(True, _bool),
    "policy_cache_ttl": Option(300, _positive_int),
    "buildroot_enabled": Option(True, _bool),
    "network_enabled": Option(True, _bool),
    "container_mounts": Option([], _mounts),
    "container_labels": Option({}, _labels),
    "container_timeouts": Option(dict(_TIMEOUT_DEFAULTS), _timeouts),
    "container_memory": Option(None, _int),
    "container_pids": Option(4096, _int),
    "container_cpus": Option(None, _float),
    "log_sinks": Option(["file"], _words),
    "cache_dir": Option("/var/cache/koji-adjutant"),
    "hub_log_interval": Option(1.0, _positive_float),
    "install_network": Option("bridge", _network_mode),
    "scm_network": Option("bridge", _network_mode),
    "repo_wait_interval": Option(60.0, _positive_float),
    "buildroot_cache_enabled": Option(True, _bool),
    "buildroot_cache_max_images": Option(20, _int),
    "buildroot_cache_max_size": Option(20480, _int),
}


def _parse_section(path: Path, section: str, raw: Mapping[str, str],
                   known: Mapping[str, Option]) -> dict[str, Any]:
    values = {name: opt.default for name, opt in known.items()}
    for key, text in raw.items():
        if key not in known:
            if section == "kojid" and key.upper().startswith("RLIMIT_"):
                values[key.upper()] = text
                continue
            choices = ", ".join(sorted(known))
            raise ConfigError(f"{path}: [{section}] unknown option {key!r}; known options: "
                              f"{choices}")
        try:
            values[key] = known[key].parse(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: [{section}] {key} = {text!r}: {exc}") from None
    return values


@dataclass(frozen=True)
class WorkerConfig:
    """The parsed configuration. ``kojid`` and ``adjutant`` map option names to values;
    ``plugin_options`` holds the plugin-declared ``[adjutant]`` keys as strings."""

    path: Path
    kojid: Mapping[str, Any]
    adjutant: Mapping[str, Any]
    plugin_options: Mapping[str, str]

    def koji_options(self, **overrides: Any) -> SimpleNamespace:
        """kojid's option object: what koji's TaskManager and task handlers read."""
        merged = {**self.kojid, **self.adjutant, **self.plugin_options, **overrides}
        return SimpleNamespace(**merged)


def load_config(path: Path, plugin_options: Iterable[Any] = (),
                overrides: Mapping[str, Any] | None = None, require_hub: bool = True) \
        -> WorkerConfig:
    """Read ``path``. ``plugin_options`` are ``ConfigOption``s from the plugins.

    ``overrides`` (from the command line) replace file values. Raises ConfigError.
    """
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path) as fh:
            parser.read_file(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (use -c/--config)") from None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: not a valid config file: {exc}") from None
    kojid = _parse_section(path, "kojid", dict(parser.items("kojid")) if
                           parser.has_section("kojid") else {}, KOJID_OPTIONS)
    extra = {opt.name: Option(opt.default) for opt in plugin_options}
    known = {**ADJUTANT_OPTIONS, **extra}
    adjutant_raw = dict(parser.items("adjutant")) if parser.has_section("adjutant") else {}
    parsed = _parse_section(path, "adjutant", adjutant_raw, known)
    adjutant = {k: v for k, v in parsed.items() if k in ADJUTANT_OPTIONS}
    plugin_values = {k: str(v) for k, v in parsed.items() if k in extra}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        (kojid if key in KOJID_OPTIONS else adjutant)[key] = value
    if kojid["cert"] is None and os.path.exists("/etc/kojid/client.crt"):
        kojid["cert"] = "/etc/kojid/client.crt"
    if kojid["serverca"] is None and os.path.exists("/etc/kojid/serverca.crt"):
        kojid["serverca"] = "/etc/kojid/serverca.crt"
    if kojid["topurl"]:
        # kojid accepts several space-separated topurls and downloads from the first.
        kojid["topurls"] = kojid["topurl"].split()
        kojid["topurl"] = kojid["topurls"][0]
    if require_hub:
        for key in ("server", "topurl"):
            if not kojid[key]:
                raise ConfigError(f"{path}: [kojid] {key} is required")
    return WorkerConfig(path, kojid, adjutant, plugin_values)
