"""``adjutant doctor``: what a new build host needs, checked one by one, each with its fix.

The checks run in a fixed order (:data:`CHECKS`) over one :class:`Doctor`, which carries
what earlier checks learnt: the parsed config, a hub session that answers, the host's
name, the engine. A check that needs something an earlier check could not provide is
reported as skipped instead of failing a second time for the same cause.

Nothing here changes the hub or the engine. The host logs in without the exclusive lock
(a running worker keeps its session and never notices) and every hub query after the
login goes through an anonymous session; images are looked up, never pulled; the engine
service is never started. The only container it runs is an emulated arch's one-second
``uname -m`` probe, removed at once.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import koji

from adjutant.config import ConfigError, WorkerConfig, engine_timeouts, load_config
from adjutant.container.errors import ContainerError
from adjutant.container.runtime import ContainerRuntime
from adjutant.engine import open_runtime
from adjutant.plugin.manager import PluginError, Plugins
from adjutant.policy.errors import PolicyError
from adjutant.policy.rules import POLICY_KEY, parse_policy
from adjutant.settings import WorkerSettings
from adjutant.worker import diskspace
from adjutant.worker.session import LoginError, login, login_method, session_options

#: Seconds a hub call may take before the hub counts as unreachable.
DEFAULT_HUB_TIMEOUT = 30.0
_MB = 1024 * 1024


class Status(enum.Enum):
    """A finding's verdict; only FAIL makes the command exit non-zero."""

    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Finding:
    """One line of the report.

    ``check`` is the stable id of the check that made it (``config``, ``hub``, ...);
    ``what`` names the thing checked; ``detail`` is what was found for OK, the problem
    otherwise; ``fix`` (for WARN and FAIL) says what to do about it.
    """

    check: str
    status: Status
    what: str
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        """``ok   <what>: <detail>`` / ``FAIL <what>: <problem> -> fix: <how>``."""
        text = f"{self.status.value:<4} {self.what}"
        if self.detail:
            text += f": {self.detail}"
        if self.fix:
            text += f" -> fix: {self.fix}"
        return text

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status.value, "what": self.what,
                "detail": self.detail, "fix": self.fix}


def _short(exc: BaseException) -> str:
    """The telling part of a transport error (``[Errno 111] Connection refused``), else the
    whole message, cut to a line's length."""
    text = str(exc) or type(exc).__name__
    errno = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if errno:
        return errno.group(0).strip()
    if "timed out" in text.lower():
        return "timed out"
    return text if len(text) <= 200 else text[:197] + "..."


class Doctor:
    """The state the checks share. ``run()`` runs every check once, in order.

    ``path`` is the kojid.conf to check; ``plugins`` the loaded plugins (their config keys
    are accepted, their runtimes used); ``hub_timeout`` bounds each hub call in seconds.
    """

    def __init__(self, path: Path, plugins: Plugins,
                 hub_timeout: float = DEFAULT_HUB_TIMEOUT) -> None:
        self.path = path
        self.plugins = plugins
        self.hub_timeout = hub_timeout
        self.config: WorkerConfig | None = None
        self._settings: WorkerSettings | None = None
        #: An anonymous session on a hub that answered; None until the hub check passes.
        self.hub: koji.ClientSession | None = None
        #: The host's name once the login told it (or the config's user when locked out).
        self.host_name: str | None = None
        self.channels: list[str] = []
        self._runtime: ContainerRuntime | None = None
        self._runtime_error: Exception | None = None
        self._runtime_tried = False

    # -- shared pieces -----------------------------------------------------------------

    @property
    def settings(self) -> WorkerSettings:
        """The parsed config's typed settings (only once the config check passed)."""
        assert self.config is not None
        if self._settings is None:
            self._settings = self.config.settings(self.plugins)
        return self._settings

    def session_overrides(self) -> dict[str, Any]:
        """ClientSession options for quick answers: no retries, no waiting out a hub in
        maintenance, each call bounded by ``hub_timeout``."""
        configured = self.settings.timeout
        timeout = min(configured, self.hub_timeout) if configured else self.hub_timeout
        return {"max_retries": 0, "offline_retry": False, "anon_retry": False,
                "timeout": timeout}

    def runtime(self) -> ContainerRuntime | None:
        """The configured engine, opened once (never starting its service); None when it
        cannot be opened, the reason in :meth:`runtime_error`."""
        if not self._runtime_tried and self.config is not None:
            self._runtime_tried = True
            try:
                self._runtime = open_runtime(
                    self.plugins, self.settings.runtime, self.config.plugin_options,
                    may_start_services=False,
                    timeouts=engine_timeouts(self.settings.container_timeouts))
            except (ContainerError, PluginError, ImportError) as exc:
                self._runtime_error = exc
        return self._runtime

    def runtime_error(self) -> Exception | None:
        return self._runtime_error

    # -- running -----------------------------------------------------------------------

    def run(self) -> list[Finding]:
        """Every check's findings, in order. Releases the sessions and the engine client."""
        findings: list[Finding] = []
        try:
            for check in CHECKS:
                findings.extend(check(self))
        finally:
            self.close()
        return findings

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        self.hub = None


def failed(findings: list[Finding]) -> bool:
    """True when any finding is a FAIL (the command then exits 1)."""
    return any(f.status is Status.FAIL for f in findings)


Check = Callable[[Doctor], Iterator[Finding]]


# -- 1. config -------------------------------------------------------------------------

def check_config(doc: Doctor) -> Iterator[Finding]:
    """The config parses with the plugins' keys, exactly as ``adjutant run`` reads it, and
    names a runtime and log sinks that some plugin provides; plugins that failed to load
    are warnings."""
    for failure in doc.plugins.failures:
        yield Finding("config", Status.WARN, f"plugin {failure.name}", failure.error,
                      f"install what it needs, or block it with ADJUTANT_PLUGINS_BLOCK="
                      f"{failure.name}")
    what = f"config {doc.path}"
    try:
        config = load_config(doc.path, doc.plugins.config_options())
    except ConfigError as exc:
        problem = str(exc).removeprefix(f"{doc.path}: ")
        fix = ("pass the worker's kojid.conf with -c" if "no such config file" in problem
               else "correct that key ([kojid] takes kojid's options, [adjutant] the "
                    "container settings and the plugins' keys)")
        yield Finding("config", Status.FAIL, what, problem, fix)
        return
    settings = config.settings(doc.plugins)
    runtime = settings.runtime
    try:
        doc.plugins.runtime_provider(runtime)
    except PluginError as exc:
        yield Finding("config", Status.FAIL, what, f"[adjutant] runtime = {runtime}: {exc}",
                      "name a runtime a plugin provides ('adjutant plugins' lists them)")
        return
    for sink in settings.log_sinks:
        try:
            doc.plugins.log_sink(sink)
        except PluginError as exc:
            yield Finding("config", Status.FAIL, what, f"[adjutant] log_sinks: {exc}",
                          "name only sinks a plugin provides ('adjutant plugins' lists them)")
            return
    doc.config = config
    yield Finding("config", Status.OK, what,
                  f"parses (runtime {runtime}, hub {settings.server})")


def _needs(doc: Doctor, check: str, what: str, *, hub: bool = False) -> Finding | None:
    """A SKIP finding when the config (or, with ``hub``, a hub that answers) is missing."""
    if doc.config is None:
        return Finding(check, Status.SKIP, what, "needs a config that parses")
    if hub and doc.hub is None:
        return Finding(check, Status.SKIP, what, "needs a hub that answers")
    return None


# -- 2. hub ----------------------------------------------------------------------------

def check_hub(doc: Doctor) -> Iterator[Finding]:
    """The hub at ``[kojid] server`` answers ``getKojiVersion`` (anonymously)."""
    skip = _needs(doc, "hub", "hub")
    if skip:
        yield skip
        return
    url = doc.settings.server
    opts = {k: v for k, v in session_options(doc.settings).items()
            if k not in ("user", "password", "cert")}
    session = koji.ClientSession(url, {**opts, **doc.session_overrides()})
    try:
        version = session.getKojiVersion()
    except koji.ServerOffline as exc:
        yield Finding("hub", Status.FAIL, f"hub {url} offline", str(exc),
                      "the hub is in maintenance or its database is down: ask its admins")
        return
    except koji.GenericError as exc:
        yield Finding("hub", Status.FAIL, f"hub {url} answered with an error", str(exc),
                      "check [kojid] server is the hub's XML-RPC URL (.../kojihub)")
        return
    except Exception as exc:
        # What a transport fails with depends on requests and koji's own wrapping; any
        # failure here means no Koji answer came back.
        text = str(exc)
        if "SSL" in type(exc).__name__ or "CERTIFICATE" in text.upper():
            fix = "set [kojid] serverca to the CA that signed the hub's certificate"
        elif re.search(r"\b(404|405|500|502|503)\b", text):
            fix = "check [kojid] server is the hub's XML-RPC URL (.../kojihub)"
        else:
            fix = "check [kojid] server, network, the hub's httpd"
        yield Finding("hub", Status.FAIL, f"hub {url} unreachable", _short(exc), fix)
        return
    doc.hub = session
    yield Finding("hub", Status.OK, f"hub {url}", f"answers (Koji {version})")


# -- 3. login --------------------------------------------------------------------------

_LOGIN_FIXES = {
    "password": "check [kojid] user and password against the hub's account for this host",
    "certificate": "check [kojid] cert (one PEM with certificate and key whose CN is the "
                   "host name given to 'koji add-host') and serverca",
    "GSSAPI": "check [kojid] krb_principal (or host_principal_format), keytab and ccache, or "
              "set cert, or user and password",
}


def check_login(doc: Doctor) -> Iterator[Finding]:
    """The host's credentials are accepted. Never takes the exclusive lock: when a running
    worker holds it, the hub refuses this session's queries (AuthLockError), which proves
    the login worked and leaves the worker alone."""
    skip = _needs(doc, "login", "login", hub=True)
    if skip:
        yield skip
        return
    method = login_method(doc.settings)
    who = doc.settings.user or doc.settings.cert or "the host principal"
    what = f"login as {who} ({method})"
    try:
        session = login(doc.settings, doc.session_overrides())
    except LoginError as exc:
        yield Finding("login", Status.FAIL, what, str(exc), _LOGIN_FIXES[method])
        return
    try:
        user = session.getLoggedInUser()
    except koji.AuthLockError:
        doc.host_name = doc.settings.user
        yield Finding("login", Status.OK, what, "accepted; a running worker holds the "
                      "host's exclusive session (left alone)")
        return
    except koji.GenericError as exc:
        yield Finding("login", Status.FAIL, what, f"logged in, but the hub then refused: "
                      f"{exc}", _LOGIN_FIXES[method])
        return
    finally:
        # Best effort: a session left open expires on the hub, and the lock holder is
        # unaffected either way.
        with contextlib.suppress(Exception):
            session.logout()
    doc.host_name = user["name"] if user else doc.settings.user
    yield Finding("login", Status.OK, what, f"accepted (user {doc.host_name})")


# -- 4. host ---------------------------------------------------------------------------

def check_host(doc: Doctor) -> Iterator[Finding]:
    """The logged-in user is a build host that is enabled and in at least one channel."""
    skip = _needs(doc, "host", "host", hub=True)
    if skip is None and doc.host_name is None:
        skip = Finding("host", Status.SKIP, "host", "needs a login that tells the host name")
    if skip:
        yield skip
        return
    assert doc.hub is not None and doc.host_name is not None
    name = doc.host_name
    what = f"host {name}"
    try:
        host = doc.hub.getHost(name)
        channels = doc.hub.listChannels(hostID=host["id"]) if host else []
    except koji.GenericError as exc:
        yield Finding("host", Status.FAIL, what, f"the hub refused: {exc}",
                      "ask the hub's admins")
        return
    if not host:
        arch = koji.canonArch(os.uname().machine)
        yield Finding("host", Status.FAIL, what, "not a build host on the hub",
                      f"an admin runs 'koji add-host {name} {arch}'")
        return
    doc.channels = sorted(c["name"] for c in channels)
    facts = (f"arches {host['arches'] or '(none)'}, channels "
             f"{', '.join(doc.channels) or '(none)'}, capacity {host['capacity']}")
    if not host["enabled"]:
        yield Finding("host", Status.FAIL, what, f"disabled on the hub ({facts})",
                      f"koji enable-host {name}")
    elif not doc.channels:
        yield Finding("host", Status.FAIL, what, f"in no channel, so it gets no tasks "
                      f"({facts})", f"koji add-host-to-channel {name} default")
    elif not host["arches"]:
        yield Finding("host", Status.FAIL, what, f"has no arches ({facts})",
                      f"koji edit-host --arches=<arches> {name}")
    else:
        yield Finding("host", Status.OK, what, f"enabled; {facts}")
        yield from _emulated_on_hub(doc, name, host["arches"].split())


def _emulated_on_hub(doc: Doctor, name: str, hub_arches: list[str]) -> Iterator[Finding]:
    """The hub's arches of the host include every emulated arch (else the hub never
    hands it their tasks); a foreign arch the hub lists but this host does not emulate
    would only be refused."""
    from adjutant.container.binfmt import runs_natively
    from adjutant.container.platforms import UnknownArch, canonical, platform_of

    emulated = list(doc.settings.emulated_arches)
    listed = [canonical(a) for a in hub_arches]
    missing = [a for a in emulated if a not in listed]
    if missing:
        wanted = " ".join(dict.fromkeys([*hub_arches, *missing]))
        yield Finding("host", Status.FAIL, f"host {name} arches",
                      f"emulated_arches has {' '.join(missing)}, which the hub's entry "
                      f"lacks ({' '.join(hub_arches)}): no such task comes here",
                      f'koji edit-host --arches="{wanted}" {name}')
    elif emulated:
        yield Finding("host", Status.OK, f"host {name} arches",
                      f"include the emulated {' '.join(emulated)}")
    stray = []
    for arch in listed:
        with contextlib.suppress(UnknownArch):
            if not runs_natively(platform_of(arch)) and arch not in emulated:
                stray.append(arch)
    if stray:
        yield Finding("host", Status.WARN, f"host {name} arches",
                      f"the hub lists {' '.join(stray)}, which this host neither runs "
                      f"natively nor emulates: it refuses those builds",
                      f"add {' '.join(stray)} to [adjutant] emulated_arches, or take them "
                      "off the hub's entry")


# -- 5. topdir -------------------------------------------------------------------------

def check_topdir(doc: Doctor) -> Iterator[Finding]:
    """``<topdir>/repos`` is a readable directory: the hub's topdir is mounted."""
    skip = _needs(doc, "topdir", "topdir")
    if skip:
        yield skip
        return
    topdir = Path(doc.settings.topdir)
    repos = topdir / "repos"
    what = f"topdir {topdir}"
    problem = None
    if not repos.is_dir():
        problem = f"{repos} is missing"
    else:
        try:
            with os.scandir(repos) as entries:
                next(entries, None)
        except OSError as exc:
            problem = f"{repos} cannot be read ({exc.strerror or exc})"
    if problem is None:
        yield Finding("topdir", Status.OK, what, f"{repos} is readable")
        return
    if "createrepo" in doc.channels:
        problem += " (this host is in channel createrepo, whose tasks need it)"
    yield Finding("topdir", Status.FAIL, what, problem,
                  f"mount the hub's topdir read-only at {topdir} (NFS), or createrepo tasks "
                  "are refused and buildroots come over topurl")


# -- 6. free space ---------------------------------------------------------------------

def _free_mb(path: Path) -> tuple[Path, int]:
    """Free megabytes (for unprivileged users) on the filesystem that holds ``path``, or
    would hold it: the nearest existing ancestor is measured."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing, diskspace.free_mb(existing) or 0


def _space_finding(what: str, path: Path, minspace: int, fix: str) -> Finding:
    measured, free = _free_mb(path)
    where = "" if measured == path else f" (measured at {measured}, as it does not exist yet)"
    detail = f"{free} MB free, minspace {minspace} MB{where}"
    if free < minspace:
        return Finding("space", Status.FAIL, what, detail, fix)
    return Finding("space", Status.OK, what, detail)


def check_space(doc: Doctor) -> Iterator[Finding]:
    """``[kojid] workdir`` and the engine's storage each have ``minspace`` MB free."""
    skip = _needs(doc, "space", "free space")
    if skip:
        yield skip
        return
    minspace = doc.settings.minspace
    workdir = Path(doc.settings.workdir)
    yield _space_finding(f"free space in workdir {workdir}", workdir, minspace,
                         "free space there, point [kojid] workdir at a larger filesystem, "
                         "or lower [kojid] minspace")
    runtime = doc.runtime()
    if runtime is None:
        yield Finding("space", Status.SKIP, "free space in the engine's storage",
                      "needs an engine that answers (see engine below)")
        return
    what = f"free space in {runtime.name}'s storage"
    try:
        storage = runtime.storage_path()
    except NotImplementedError as exc:
        yield Finding("space", Status.WARN, what, str(exc),
                      "check the free space where the engine keeps its images by hand")
        return
    except ContainerError as exc:
        yield Finding("space", Status.WARN, what, str(exc), "see the engine check below")
        return
    if not storage.is_dir():
        yield Finding("space", Status.WARN, f"{what} {storage}", "not on this machine (a "
                      "remote engine?)", "check the free space on the engine's machine")
        return
    yield _space_finding(f"{what} {storage}", storage, minspace,
                         f"remove unused images ('adjutant cache prune', '{runtime.name} "
                         f"image prune'), give {storage} more space, or lower [kojid] "
                         "minspace")


# -- 7. engine -------------------------------------------------------------------------

def check_engine(doc: Doctor) -> Iterator[Finding]:
    """The configured engine answers (its service is not started) and tells its version."""
    skip = _needs(doc, "engine", "engine")
    if skip:
        yield skip
        return
    name = doc.settings.runtime
    runtime = doc.runtime()
    if runtime is None:
        # The runtime's own socket keys, by the convention the built-in plugins follow.
        keys = sorted(o.name for o in doc.plugins.config_options()
                      if o.name.startswith(f"{name}_") and o.name.endswith("_url"))
        where = f", or set [adjutant] {' / '.join(keys)} to where it listens" if keys else ""
        yield Finding("engine", Status.FAIL, f"engine {name}", str(doc.runtime_error()),
                      f"start the {name} API service (as the message says){where}")
        return
    try:
        version = runtime.version()
    except Exception as exc:
        # SDKs differ in what a failed version call raises; the engine answered a ping.
        yield Finding("engine", Status.WARN, f"engine {name}", f"answers, but not with its "
                      f"version: {_short(exc)}", f"check the {name} service's log")
        return
    url = getattr(runtime, "url", None)
    yield Finding("engine", Status.OK, f"engine {name}",
                  f"{name} {version}" + (f" at {url}" if url else ""))


# -- 8. default image ------------------------------------------------------------------

def check_image(doc: Doctor) -> Iterator[Finding]:
    """``[adjutant] task_image_default`` is present, or will be got on first use as
    ``image_pull_policy`` allows (it is never pulled here)."""
    from adjutant.image.default import DEFAULT_IMAGE

    skip = _needs(doc, "image", "default image")
    runtime = doc.runtime()
    if skip is None and runtime is None:
        skip = Finding("image", Status.SKIP, "default image", "needs an engine that answers")
    if skip:
        yield skip
        return
    assert runtime is not None
    ref = doc.settings.task_image_default
    policy = doc.settings.image_pull_policy
    what = f"default image {ref}"
    try:
        info = runtime.inspect_image(ref)
    except ContainerError as exc:
        yield Finding("image", Status.FAIL, what, str(exc), "see the engine check above")
        return
    if info is not None:
        yield Finding("image", Status.OK, what, f"present ({info.id[:19]}, "
                      f"{info.size // _MB} MB)")
    elif ref == DEFAULT_IMAGE:
        yield Finding("image", Status.WARN, what, "absent; built from Debian packages on "
                      "first use (a minute or so)",
                      f"build it now: adjutant image build-default --runtime {runtime.name}")
    elif policy == "never":
        yield Finding("image", Status.FAIL, what, "absent, and image_pull_policy is never",
                      f"{runtime.name} pull {ref}, or set [adjutant] image_pull_policy = "
                      "if-not-present")
    else:
        yield Finding("image", Status.WARN, what, f"absent; will be pulled on first use "
                      f"(policy {policy})", f"pull it now to spare the first task the wait: "
                      f"{runtime.name} pull {ref}")


# -- 9. emulated arches ----------------------------------------------------------------

def check_emulation(doc: Doctor) -> Iterator[Finding]:
    """Each arch of ``emulated_arches`` runs: its qemu-user handler is registered with the
    fix-binary flag and a trivial container of its platform (from the arch's image, if
    present: never built or pulled here) runs as that arch."""
    from adjutant.worker.emulation_check import check_arch

    if doc.config is None or not doc.settings.emulated_arches:
        return
    runtime = doc.runtime()
    for arch in doc.settings.emulated_arches:
        what = f"emulated arch {arch}"
        if runtime is None:
            yield Finding("emulation", Status.SKIP, what, "needs an engine that answers")
            continue
        check = check_arch(doc.settings, runtime, arch, obtain=False)
        if check.image_absent:
            yield Finding("emulation", Status.WARN, what,
                          f"the binfmt handler is registered; its image {check.image} is "
                          "absent, so no container was tried",
                          f"adjutant image build-default --arch {arch}, or pull "
                          f"{check.image}")
        elif check.problem:
            yield Finding("emulation", Status.FAIL, what, check.problem,
                          "see the message; 'adjutant run' refuses to start until it runs")
        else:
            yield Finding("emulation", Status.OK, what,
                          f"a {check.platform.platform} container of {check.image} runs")


# -- 10. image policies ----------------------------------------------------------------

def _build_configs(hub: koji.ClientSession, tags: list[str]) -> dict[str, Any]:
    """``getBuildConfig`` of each tag in one multicall: tag → config, or the exception."""
    with hub.multicall(strict=False) as multi:
        calls = {tag: multi.getBuildConfig(tag) for tag in tags}
    results: dict[str, Any] = {}
    for tag, call in calls.items():
        try:
            results[tag] = call.result
        except koji.GenericError as exc:
            results[tag] = exc
    return results


def check_policies(doc: Doctor) -> Iterator[Finding]:
    """The ``adjutant_image_policy`` of every build tag of the hub's targets parses with
    the worker's own parser; each malformed one is a FAIL naming its tag."""
    skip = _needs(doc, "policy", "image policies", hub=True)
    if skip:
        yield skip
        return
    assert doc.hub is not None
    if not doc.settings.policy_enabled:
        yield Finding("policy", Status.OK, "image policies", "not read (policy_enabled is "
                      "off): every task gets task_image_default")
        return
    try:
        targets = doc.hub.getBuildTargets()
        tags = sorted({t["build_tag_name"] for t in targets})
        configs = _build_configs(doc.hub, tags)
    except koji.GenericError as exc:
        yield Finding("policy", Status.FAIL, "image policies", f"cannot list the hub's "
                      f"build targets: {exc}", "ask the hub's admins")
        return
    with_policy = []
    bad = 0
    for tag in tags:
        config = configs[tag]
        if isinstance(config, Exception):
            yield Finding("policy", Status.WARN, f"image policy of tag {tag}",
                          f"cannot read the tag's build config: {config}",
                          "ask the hub's admins")
            continue
        value = (config.get("extra") or {}).get(POLICY_KEY)
        if value is None:
            continue
        try:
            rules = parse_policy(value, tag)
        except PolicyError as exc:
            bad += 1
            yield Finding("policy", Status.FAIL, f"image policy of tag {tag}", str(exc),
                          f"correct it with 'koji edit-tag {tag} -x {POLICY_KEY}=<json>' "
                          "(rules format: adjutant/policy/rules.py), or remove it with "
                          f"'koji edit-tag {tag} -r {POLICY_KEY}'")
            continue
        with_policy.append(f"{tag} ({len(rules)} rules)")
    if bad:
        return
    summary = (f"{len(tags)} build tag(s) of {len(targets)} target(s); "
               + (f"{POLICY_KEY} on {', '.join(with_policy)}" if with_policy
                  else f"none has {POLICY_KEY}"))
    yield Finding("policy", Status.OK, "image policies", summary)


#: Every check, in the order they run and report.
CHECKS: tuple[Check, ...] = (check_config, check_hub, check_login, check_host, check_topdir,
                             check_space, check_engine, check_image, check_emulation,
                             check_policies)
