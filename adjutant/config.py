"""The worker's configuration: kojid.conf's ``[kojid]`` section plus ``[adjutant]``.

``[kojid]`` keeps kojid's option names and defaults, so an existing kojid.conf works as
it is; an option that has no meaning for a container builder is accepted, and when it is
set in the file, start-up names it in one warning line saying why it has no effect
(:data:`IGNORED_KOJID_OPTIONS`). ``[adjutant]`` holds the container settings, and plugins
add keys to it (``adjutant_config_options``). It may sit in kojid.conf or in a file of its
own (``adjutant.conf`` beside kojid.conf, or ``--adjutant-config``), which leaves the
kojid.conf that kojid reads untouched: kojid refuses any section but ``[kojid]``. A value
of the wrong kind, or an unknown key, is a start-up error naming the key and what it
expects.
"""

from __future__ import annotations

import configparser
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adjutant.plugin.types import EngineTimeouts
from adjutant.settings import WorkerSettings

if TYPE_CHECKING:
    from adjutant.plugin.manager import Plugins

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("/etc/kojid/kojid.conf")
#: The file of adjutant's own settings, looked for beside kojid.conf.
ADJUTANT_CONFIG_NAME = "adjutant.conf"


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


#: kojid.conf options that mean nothing to a container builder, and why; each one set in
#: the file is named at start-up in one warning line.
IGNORED_KOJID_OPTIONS: Mapping[str, str] = {
    "mockdir": "there are no mock chroots; free space is checked in workdir and the "
               "container storage",
    "mockuser": "builds run as the image's uid 1000, not as a mock user",
    "chroot_tmpdir": "there is no chroot; a build's temporary files stay in its build dir",
    "mock_bootstrap_image": "there is no mock bootstrap; the task image is the buildroot",
    "pkgurl": "obsolete in kojid too",
    "maven_repo_ignore": "Maven tasks are not handled by adjutant",
    "oz_install_timeout": "image (oz) tasks are not handled by adjutant",
    "xz_options": "image tasks are not handled by adjutant",
    "use_createrepo_c": "createrepo_c is always used (in the task's container)",
    "buildroot_basic_cleanup_delay": "a task's containers are removed when it ends; failed "
                                     "buildroots follow failed_buildroot_lifetime",
    "buildroot_final_cleanup_delay": "a task's containers are removed when it ends; failed "
                                     "buildroots follow failed_buildroot_lifetime",
    "task_avail_delay": "the hub's scheduler (1.34 and later) assigns tasks; the delay "
                        "only applied to kojid's old task-claiming loop",
    "plugin": "kojid builder plugins run inside kojid and mock; adjutant's plugins are "
              "Python entry points (see 'adjutant plugins')",
    "plugins": "kojid builder plugins run inside kojid and mock; adjutant's plugins are "
               "Python entry points (see 'adjutant plugins')",
    "pluginpath": "kojid builder plugins run inside kojid and mock; adjutant's plugins are "
                  "Python entry points (see 'adjutant plugins')",
    "copy_old_repodata": "only used by kojid's distRepo, which adjutant does not handle yet",
}

#: ``RLIMIT_*`` options as container ulimit names.
RLIMITS = ("AS", "CORE", "CPU", "DATA", "FSIZE", "LOCKS", "MEMLOCK", "MSGQUEUE", "NICE",
           "NOFILE", "NPROC", "RSS", "RTPRIO", "RTTIME", "SIGPENDING", "STACK")


def _rlimit(name: str, value: str) -> tuple[int, int]:
    """kojid's ``RLIMIT_X = SOFT [HARD]``: with one number, the hard limit is the worker's
    own (as kojid keeps its process's), but never below the soft one."""
    import resource

    try:
        numbers = [int(x) for x in value.split()]
    except ValueError:
        raise ValueError("expected SOFT or SOFT HARD, whole numbers") from None
    if len(numbers) not in (1, 2) or any(n < 0 for n in numbers):
        raise ValueError("expected SOFT or SOFT HARD, whole numbers")
    if len(numbers) == 2:
        if numbers[0] > numbers[1]:
            raise ValueError("the soft limit is above the hard one")
        return numbers[0], numbers[1]
    hard = resource.getrlimit(getattr(resource, f"RLIMIT_{name}"))[1]
    if hard == resource.RLIM_INFINITY or hard < numbers[0]:
        hard = numbers[0]
    return numbers[0], hard


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


def _arches(value: str) -> list[str]:
    """Arches by any Koji spelling, made canonical (``arm64`` is not one: ``aarch64``)."""
    from adjutant.container.platforms import UnknownArch, platform_of

    try:
        return list(dict.fromkeys(platform_of(a).arch for a in value.split()))
    except UnknownArch as exc:
        raise ValueError(str(exc)) from None


def _factor(value: str) -> float:
    number = _float(value)
    if number < 1:
        raise ValueError("expected a number of at least 1 (emulation is never faster)")
    return number


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
    "engine_wait_log_interval": Option(60.0, _positive_float),
    "hub_log_interval": Option(1.0, _positive_float),
    "install_network": Option("bridge", _network_mode),
    "scm_network": Option("bridge", _network_mode),
    "repo_wait_interval": Option(60.0, _positive_float),
    "buildroot_cache_enabled": Option(True, _bool),
    "buildroot_cache_max_images": Option(20, _int),
    "buildroot_cache_max_size": Option(20480, _int),
    "repo_metadata_cache_entries": Option(4, _int),
    "emulated_arches": Option([], _arches),
    "emulation_timeout_factor": Option(4.0, _factor),
    "emulation_deny": Option([], _words),
    "emulation_allow": Option([], _words),
}

#: [adjutant] options that may also be set for one arch as ``NAME_ARCH``
#: (``task_image_default_aarch64``); the values land in ``NAME_by_arch``, keyed by the
#: canonical arch.
PER_ARCH_OPTIONS: Mapping[str, Callable[[str], Any]] = {
    "task_image_default": _str,
    "emulation_timeout_factor": _factor,
}


def adjutant_defaults() -> dict[str, Any]:
    """Every ``[adjutant]`` value at its default (what a run with no config file gets)."""
    return {**{k: o.default for k, o in ADJUTANT_OPTIONS.items()},
            **{f"{name}_by_arch": {} for name in PER_ARCH_OPTIONS}}


def _per_arch(path: Path, raw: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Take the ``NAME_ARCH`` keys out of ``raw``: ``{NAME_by_arch: {arch: value}}``."""
    from adjutant.container.platforms import UnknownArch, platform_of

    found: dict[str, dict[str, Any]] = {f"{name}_by_arch": {} for name in PER_ARCH_OPTIONS}
    for key in [k for k in raw if k not in ADJUTANT_OPTIONS]:
        for name, parse in PER_ARCH_OPTIONS.items():
            if not key.startswith(f"{name}_"):
                continue
            text = raw.pop(key)
            try:
                arch = platform_of(key[len(name) + 1:]).arch
                found[f"{name}_by_arch"][arch] = parse(text)
            except (UnknownArch, ValueError) as exc:
                raise ConfigError(f"{path}: [adjutant] {key} = {text!r}: {exc}") from None
            break
    return found


def _parse_section(path: Path, section: str, raw: Mapping[str, str],
                   known: Mapping[str, Option]) -> dict[str, Any]:
    values = {name: opt.default for name, opt in known.items()}
    for key, text in raw.items():
        if key not in known:
            if section == "kojid" and key.upper().startswith("RLIMIT_"):
                name = key.upper().removeprefix("RLIMIT_")
                if name not in RLIMITS:
                    raise ConfigError(f"{path}: [kojid] {key}: unknown resource limit; known: "
                                      + ", ".join(f"RLIMIT_{n}" for n in RLIMITS))
                try:
                    values.setdefault("rlimits", {})[name] = _rlimit(name, text)
                except ValueError as exc:
                    raise ConfigError(f"{path}: [kojid] {key} = {text!r}: {exc}") from None
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
    ``plugin_options`` holds the plugin-declared ``[adjutant]`` keys as strings;
    ``warnings`` are the lines start-up logs (options set but without effect here);
    ``sources`` the files read."""

    path: Path
    kojid: Mapping[str, Any]
    adjutant: Mapping[str, Any]
    plugin_options: Mapping[str, str]
    warnings: tuple[str, ...] = ()
    sources: tuple[Path, ...] = ()

    def settings(self, plugins: Plugins, host_name: str = "", daemon_pid: int = 0) \
            -> WorkerSettings:
        """The typed settings of this configuration: what koji's TaskManager, the task
        handlers, their steps and the commands read. ``host_name`` is empty until a login
        tells it."""
        return WorkerSettings.from_values({
            **self.kojid, **self.adjutant, "plugins": plugins, "host_name": host_name,
            "daemon_pid": daemon_pid, "plugin_options": dict(self.plugin_options),
            "adjutant_settings": {**self.adjutant, **self.plugin_options}})


def _check_emulated(path: Path, arches: Iterable[str]) -> None:
    from adjutant.container.binfmt import runs_natively
    from adjutant.container.platforms import host_arch, platform_of

    native = [a for a in arches if runs_natively(platform_of(a))]
    if native:
        raise ConfigError(f"{path}: [adjutant] emulated_arches: {' '.join(native)} run "
                          f"natively on this {host_arch()} host; list only the arches it "
                          "runs through qemu-user")


def _read(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path) as fh:
            parser.read_file(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (use -c/--config)") from None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: not a valid config file: {exc}") from None
    return parser


def _section(parser: configparser.ConfigParser, name: str) -> dict[str, str]:
    return dict(parser.items(name)) if parser.has_section(name) else {}


def adjutant_config_path(path: Path, explicit: Path | None = None) -> Path | None:
    """The separate file of ``[adjutant]`` settings: ``explicit`` (which must exist), else
    ``adjutant.conf`` beside kojid.conf when there is one."""
    if explicit is not None:
        return explicit
    beside = path.parent / ADJUTANT_CONFIG_NAME
    return beside if beside.is_file() else None


def load_config(path: Path, plugin_options: Iterable[Any] = (),
                overrides: Mapping[str, Any] | None = None, require_hub: bool = True,
                adjutant_path: Path | None = None) -> WorkerConfig:
    """Read kojid.conf at ``path`` and adjutant's own file (see
    :func:`adjutant_config_path`; its ``[adjutant]`` keys win over kojid.conf's).
    ``plugin_options`` are ``ConfigOption``s from the plugins. ``overrides`` (from the
    command line) replace file values. Raises ConfigError.
    """
    parser = _read(path)
    kojid_raw = _section(parser, "kojid")
    kojid = _parse_section(path, "kojid", kojid_raw, KOJID_OPTIONS)
    kojid.setdefault("rlimits", {})
    kojid["topurls"] = []
    alias = kojid.pop("plugins")  # kojid reads "plugins" as "plugin"
    if alias and not kojid["plugin"]:
        kojid["plugin"] = alias
    extra = {opt.name: Option(opt.default) for opt in plugin_options}
    known = {**ADJUTANT_OPTIONS, **extra}
    adjutant_raw = _section(parser, "adjutant")
    sources = [path]
    own = adjutant_config_path(path, adjutant_path)
    if own is not None:
        own_parser = _read(own)
        strays = [s for s in own_parser.sections() if s != "adjutant"]
        if strays:
            raise ConfigError(f"{own}: only an [adjutant] section belongs here (found "
                              f"{', '.join(f'[{s}]' for s in strays)}); kojid's options stay "
                              f"in {path}")
        adjutant_raw.update(_section(own_parser, "adjutant"))
        sources.append(own)
    by_arch = _per_arch(own or path, adjutant_raw)
    parsed = _parse_section(own or path, "adjutant", adjutant_raw, known)
    adjutant = {k: v for k, v in parsed.items() if k in ADJUTANT_OPTIONS}
    adjutant.update(by_arch)
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
    if kojid["log_level"] is not None and \
            not isinstance(logging.getLevelName(kojid["log_level"]), int):
        raise ConfigError(f"{path}: [kojid] log_level = {kojid['log_level']!r}: expected "
                          "DEBUG, INFO, WARNING, ERROR or CRITICAL")
    _check_emulated(own or path, adjutant["emulated_arches"])
    if require_hub:
        for key in ("server", "topurl"):
            if not kojid[key]:
                raise ConfigError(f"{path}: [kojid] {key} is required")
    warnings = tuple(f"{path}: [kojid] {key} has no effect in adjutant: "
                     f"{IGNORED_KOJID_OPTIONS[key]}"
                     for key in kojid_raw if key in IGNORED_KOJID_OPTIONS)
    return WorkerConfig(path, kojid, adjutant, plugin_values, warnings, tuple(sources))
