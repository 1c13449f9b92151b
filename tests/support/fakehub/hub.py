"""The test-facing object: start/stop the fake hub and set up its world."""

import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import koji
from koji.xmlrpcplus import Fault

from . import scheduler, taskops
from .api_repos import repo_dir, set_repo_state
from .api_tags import build_config as merged_build_config
from .config import HubConfig
from .core import HubCore
from .dispatch import Dispatcher
from .history import HubHistory
from .rules import (
    find_build,
    find_channel,
    find_user,
    get_external_repo,
    get_tag,
    get_task,
)
from .server import FILES_PATH, HUB_PATH, HubHTTPServer
from .state import (
    BUILD_COMPLETE,
    REPO_READY,
    USER_HOST,
    Build,
    Channel,
    ExternalRepo,
    Host,
    PackageEntry,
    Repo,
    Rpm,
    Tag,
    TagExternalRepo,
    Target,
    User,
)
from .views import build_info, buildroot_info, host_info, repo_info, task_info

#: Channels every hub has.
DEFAULT_CHANNELS = ("default", "createrepo")
#: The NORMAL user that owns tasks made without an explicit owner.
DEFAULT_OWNER = "kojiuser"


#: The URLs of the hubs serving from this process.
_IN_PROCESS_URLS: set[str] = set()
_session_del = koji.ClientSession.__del__


def _del_without_calling_this_process(session: koji.ClientSession) -> None:
    """koji's ClientSession logs out when garbage-collected. For a hub served by this
    very process, that call can run on the hub's own accept thread (a collection may
    happen there) and wait forever for itself to answer: skip it; the test's hub
    forgets the session when it stops."""
    if getattr(session, "baseurl", None) in _IN_PROCESS_URLS:
        return
    _session_del(session)


koji.ClientSession.__del__ = _del_without_calling_this_process  # type: ignore[method-assign]


class FakeHub:
    """A Koji hub for tests, speaking the real protocol over HTTP on 127.0.0.1.

    ``topdir`` is the hub's ``KojiDir`` (``work/``, ``repos/``, ``packages/``, ``scratch/``
    are created in it). ``options`` are :class:`~.config.HubConfig` fields named as in
    hub.conf (``ReadyTimeout=…, AssignTimeout=…, HostTimeout=…, RunInterval=…,
    SessionRenewalTimeout=…``); an unknown name is a ``TypeError``. ``trust_cn_header``
    enables the ``sslLogin`` test hook (see :mod:`.api_session`).

    Use as a context manager, or :meth:`start` / :meth:`stop`. Test-side methods may be
    called before or after :meth:`start`; they take effect at once. Ids returned by the
    ``add_*`` methods are the ids XML-RPC calls use.

    Observation: :attr:`calls` counts XML-RPC calls by method name (multiCall items too;
    raw uploads as ``rawUpload``); :attr:`history` holds state transitions.
    """

    def __init__(
        self,
        topdir: str | Path,
        *,
        port: int = 0,
        trust_cn_header: bool = False,
        check_reads: bool = True,
        **options: Any,
    ) -> None:
        self.topdir = Path(topdir)
        for sub in ("work", "repos", "packages", "scratch"):
            (self.topdir / sub).mkdir(parents=True, exist_ok=True)
        self.core = HubCore(self.topdir, HubConfig(**options), trust_cn_header)
        self.core.check_reads = check_reads
        self._dispatcher = Dispatcher(self.core)
        self._port = port
        self._server: HubHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.history = HubHistory(self.core)
        with self.core.lock:
            self.core.db.new_event(self.core.now())
            for name in DEFAULT_CHANNELS:
                self.add_channel(name)
            self.default_owner = self.add_user(DEFAULT_OWNER)

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> "FakeHub":
        """Listen on 127.0.0.1 (an ephemeral port unless ``port`` was given)."""
        if self._server is not None:
            raise RuntimeError("fake hub already started")
        self._server = HubHTTPServer(("127.0.0.1", self._port), self._dispatcher, self.topdir)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
            name="fakehub", daemon=True,
        )
        _IN_PROCESS_URLS.add(self.url)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._server is None:
            return
        _IN_PROCESS_URLS.discard(self.url)
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "FakeHub":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake hub not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The hub URL for ``koji.ClientSession``: ``http://127.0.0.1:PORT/kojihub``."""
        return f"http://127.0.0.1:{self.port}{HUB_PATH}"

    @property
    def topurl(self) -> str:
        """Where topdir is served read-only: ``http://127.0.0.1:PORT/kojifiles``."""
        return f"http://127.0.0.1:{self.port}{FILES_PATH}"

    @property
    def config(self) -> HubConfig:
        """The live settings; changing a field takes effect on the next call."""
        return self.core.config

    @property
    def calls(self) -> Counter[str]:
        """XML-RPC calls received, by method name (faults included)."""
        return self.core.calls

    def client(self, user: str | None = None, password: str | None = None, *,
               exclusive: bool = False, force: bool = False, **opts: Any) -> koji.ClientSession:
        """A ``koji.ClientSession`` on this hub, logged in when ``user`` is given, then made
        exclusive with ``exclusive``. Transport retries default to one, 0.1 s apart."""
        session_opts: dict[str, Any] = {"max_retries": 1, "retry_interval": 0.1}
        session_opts.update(opts)
        if user is not None:
            session_opts.update(user=user, password=password)
        session = koji.ClientSession(self.url, session_opts)
        if user is not None:
            session.login()
            if exclusive:
                session.exclusiveSession(force=force)
        return session

    # -- clock and scheduler -----------------------------------------------------------

    def now(self) -> float:
        return self.core.now()

    def advance_clock(self, seconds: float) -> None:
        """Make ``seconds`` pass for every hub timer (sessions, scheduler) without sleeping."""
        with self.core.lock:
            self.core.clock.advance(seconds)

    def run_scheduler(self, force: bool = True) -> bool:
        """Run the assignment step now (respecting ``RunInterval`` unless ``force``)."""
        with self.core.lock:
            return scheduler.run(self.core.db, self.core.config, self.now(), force=force)

    # -- users, channels, hosts --------------------------------------------------------

    def add_user(self, name: str, password: str | None = None,
                 perms: Iterable[str] = (), usertype: int = koji.USERTYPES["NORMAL"]) -> int:
        """A user who can ``login(name, password)`` (no password: no password login)."""
        with self.core.lock:
            db = self.core.db
            if db.user_by_name(name) is not None:
                raise ValueError(f"user {name} exists")
            user = User(id=db.next_id("users"), name=name, password=password,
                        usertype=usertype, perms=set(perms))
            db.users[user.id] = user
            return user.id

    def add_admin(self, name: str, password: str | None = None) -> int:
        return self.add_user(name, password, perms=["admin"])

    def grant(self, user: int | str, perm: str) -> None:
        with self.core.lock:
            found = find_user(self.core.db, user)
            if found is None:
                raise KeyError(user)
            found.perms.add(perm)

    def add_channel(self, name: str) -> int:
        with self.core.lock:
            db = self.core.db
            existing = db.channel_by_name(name)
            if existing is not None:
                return existing.id
            channel = Channel(id=db.next_id("channels"), name=name)
            db.channels[channel.id] = channel
            return channel.id

    def add_host(
        self,
        name: str,
        arches: Iterable[str] = ("x86_64", "noarch"),
        capacity: float = 2.0,
        channels: Iterable[str] = ("default",),
        password: str | None = None,
        enabled: bool = True,
    ) -> int:
        """A build host (a HOST user named ``name`` plus its host row) → the host id.

        It logs in with ``login(name, password)`` (or ``sslLogin`` with CN ``name``).
        Unknown channels are created. The host starts not ready, as after ``add-host``.
        """
        with self.core.lock:
            db = self.core.db
            user_id = self.add_user(name, password, usertype=USER_HOST)
            chan_ids = [self.add_channel(c) for c in channels]
            host = Host(id=db.next_id("hosts"), user_id=user_id, name=name,
                        arches=list(arches), capacity=float(capacity), channels=chan_ids,
                        enabled=enabled)
            db.hosts[host.id] = host
            return host.id

    def set_host(self, host_id: int, **fields: Any) -> None:
        """Change host fields (``enabled``, ``capacity``, ``arches``, ``ready``, ...)."""
        with self.core.lock:
            host = self.core.db.hosts[host_id]
            for key, value in fields.items():
                if key == "channels":
                    value = [self.add_channel(c) for c in value]
                if not hasattr(host, key):
                    raise AttributeError(f"hosts have no field {key}")
                setattr(host, key, value)

    def host(self, host_id: int) -> dict[str, Any]:
        """``getHost`` plus ``channels`` (names) and ``data`` (the last host data)."""
        with self.core.lock:
            host = self.core.db.hosts[host_id]
            info = host_info(host)
            info["channels"] = [self.core.db.channels[c].name for c in host.channels]
            info["data"] = host.data
            return info

    def sessions(self, user: int | str | None = None) -> list[dict[str, Any]]:
        """Session rows (``id, user_id, master, exclusive, expired, closed, callnum``)."""
        with self.core.lock:
            found = find_user(self.core.db, user) if user is not None else None
            return [
                {"id": s.id, "user_id": s.user_id, "master": s.master,
                 "exclusive": s.exclusive, "expired": s.expired, "closed": s.closed,
                 "callnum": s.callnum}
                for s in self.core.db.sessions.values()
                if found is None or s.user_id == found.id
            ]

    # -- tasks -------------------------------------------------------------------------

    def make_task(
        self,
        method: str,
        params: list[Any],
        arch: str = "noarch",
        channel: str = "default",
        priority: int = koji.PRIO_DEFAULT,
        owner: int | str | None = None,
        parent: int | None = None,
        label: str | None = None,
        assign: int | None = None,
    ) -> int:
        """Create a task as a user's call would → its id. ``params`` are stored as the XML-RPC
        encoding of the list (put a ``{..., '__starstar': True}`` dict last for kwargs).
        ``assign`` makes it ASSIGNED to that host id straight away (no scheduler run)."""
        with self.core.lock:
            db = self.core.db
            chan = find_channel(db, channel)
            if chan is None:
                raise KeyError(f"no channel {channel}")
            owner_user = find_user(db, owner) if owner is not None else db.users[
                self.default_owner]
            if owner_user is None:
                raise KeyError(f"no user {owner}")
            if parent is not None:
                get_task(db, parent)
            task = taskops.make_task(
                db, self.now(), method, params, owner=owner_user.id, channel_id=chan.id,
                arch=arch, priority=priority, parent=parent, label=label, assign=assign,
            )
            return task.id

    def cancel_task(self, task_id: int, recurse: bool = True) -> bool:
        """Cancel like ``cancelTask`` (descendants too) → False if it had already finished."""
        with self.core.lock:
            return taskops.cancel(self.core.db, get_task(self.core.db, task_id), self.now(),
                                  recurse=recurse)

    def task(self, task_id: int) -> dict[str, Any]:
        """The task row (``getTaskInfo``) plus ``state_name``, ``request`` (decoded params)
        and ``result`` (the response stored by closeTask/failTask, verbatim)."""
        with self.core.lock:
            task = get_task(self.core.db, task_id)
            info = task_info(task)
            info["state_name"] = koji.TASK_STATES[task.state]
            info["request"] = taskops.decode_request(task)
            info["result"] = task.result
            return info

    def task_result(self, task_id: int) -> Any:
        """The decoded result, as ``getTaskResult``; a stored fault is raised as the koji
        exception of its code."""
        with self.core.lock:
            task = get_task(self.core.db, task_id)
            try:
                return taskops.get_result(task)
            except Fault as fault:
                raise koji.convertFault(fault) from None

    def children(self, task_id: int) -> list[int]:
        with self.core.lock:
            return sorted(t.id for t in self.core.db.children(task_id))

    def refusals(self, task_id: int | None = None) -> list[dict[str, Any]]:
        with self.core.lock:
            return [
                {"task_id": r.task_id, "host_id": r.host_id, "soft": r.soft,
                 "by_host": r.by_host, "msg": r.msg, "ts": r.ts}
                for r in self.core.db.refusals.values()
                if task_id is None or r.task_id == task_id
            ]

    # -- policies ----------------------------------------------------------------------

    def set_policy(self, name: str, allow: bool | Callable[[dict[str, Any]], bool],
                   reason: str = "") -> None:
        """Make policy ``name`` (``build_rpm``, ``build_from_srpm``, ``tag``, ...) allow or
        deny, always or per the callable's answer for the policy data. Policies not set
        allow (``MissingPolicyOk``)."""
        def rule(data: dict[str, Any]) -> tuple[bool, str]:
            verdict = allow(data) if callable(allow) else allow
            return bool(verdict), "" if verdict else reason

        with self.core.lock:
            self.core.policies[name] = rule

    # -- tags, targets, repos ----------------------------------------------------------

    def add_tag(
        self,
        name: str,
        arches: str | None = "x86_64",
        extra: dict[str, Any] | None = None,
        parents: Iterable[int | str] = (),
        groups: dict[str, list[str]] | None = None,
        locked: bool = False,
    ) -> int:
        """A tag → its id. ``parents`` (ids or names) in priority order; ``groups`` are
        comps groups (``{"build": [...], "srpm-build": [...]}``) written by repoInit."""
        with self.core.lock:
            db = self.core.db
            if db.tag_by_name(name) is not None:
                raise ValueError(f"tag {name} exists")
            tag = Tag(id=db.next_id("tags"), name=name, arches=arches,
                      extra=dict(extra or {}),
                      parents=[get_tag(db, p).id for p in parents],
                      locked=locked, groups=dict(groups or {}),
                      change_event=db.new_event(self.now()))
            tag.create_event = tag.change_event
            db.tags[tag.id] = tag
            return tag.id

    def add_package(self, tag: int | str, name: str, blocked: bool = False,
                    extra_arches: str | None = None, owner: int | str | None = None) -> None:
        """List (or block) a package in a tag."""
        with self.core.lock:
            db = self.core.db
            owner_user = find_user(db, owner if owner is not None else self.default_owner)
            db.package_id(name)
            get_tag(db, tag).packages[name] = PackageEntry(
                blocked=blocked, extra_arches=extra_arches,
                owner_id=owner_user.id if owner_user else None)

    def add_target(self, name: str, build_tag: int | str, dest_tag: int | str) -> int:
        with self.core.lock:
            db = self.core.db
            target = Target(id=db.next_id("targets"), name=name,
                            build_tag=get_tag(db, build_tag).id,
                            dest_tag=get_tag(db, dest_tag).id)
            db.targets[target.id] = target
            return target.id

    def build_config(self, tag: int | str) -> dict[str, Any]:
        """What ``getBuildConfig(tag)`` answers."""
        with self.core.lock:
            return merged_build_config(self.core.db, get_tag(self.core.db, tag))

    def add_repo(self, tag: int | str, state: int = REPO_READY,
                 arches: Iterable[str] = ()) -> int:
        """A repo of ``tag`` in ``state`` → its id; makes ``repos/<tag>/<id>/`` (and an empty
        ``<arch>/`` for each of ``arches``) for the test to fill."""
        with self.core.lock:
            db = self.core.db
            now = self.now()
            repo = Repo(id=db.next_id("repos"), tag_id=get_tag(db, tag).id, state=state,
                        create_event=db.new_event(now), creation_ts=now)
            db.repos[repo.id] = repo
            db.record("repo", repo.id, None, koji.REPO_STATES[state], now)
            path = repo_dir(self.topdir, db, repo)
            path.mkdir(parents=True, exist_ok=True)
            for arch in arches:
                (path / arch).mkdir(exist_ok=True)
            return repo.id

    def repo(self, repo_id: int) -> dict[str, Any]:
        with self.core.lock:
            return repo_info(self.core.db, self.core.db.repos[repo_id])

    def repo_path(self, repo_id: int) -> Path:
        """``<topdir>/repos/<tag>/<repo_id>``."""
        with self.core.lock:
            return repo_dir(self.topdir, self.core.db, self.core.db.repos[repo_id])

    def set_repo_state(self, repo_id: int, state: int) -> None:
        with self.core.lock:
            set_repo_state(self.core.db, self.core.db.repos[repo_id], state, self.now())

    def add_external_repo(self, name: str, url: str = "http://example.invalid/repo/") -> int:
        """An external repo buildroot lists may name in ``location`` → its id. The URL gets
        a trailing ``/`` as the hub gives it one."""
        with self.core.lock:
            db = self.core.db
            ext = ExternalRepo(id=db.next_id("external_repos"), name=name,
                               url=url if url.endswith("/") else url + "/")
            db.external_repos[ext.id] = ext
            return ext.id

    def add_external_repo_to_tag(self, tag: int | str, external_repo: int | str,
                                 priority: int = 5, merge_mode: str = "koji",
                                 arches: str | None = None) -> None:
        """Attach an external repo to ``tag`` (as of a new event), as an admin would: the
        hub's checks apply (merge mode, repo or priority already used by the tag) and
        ``arches`` is normalised to a space-separated list."""
        with self.core.lock:
            db = self.core.db
            ext = get_external_repo(db, external_repo)
            taginfo = get_tag(db, tag)
            if merge_mode not in ("koji", "simple", "bare"):
                raise koji.GenericError(f"No such merge mode: {merge_mode}")
            for link in taginfo.external_repos:
                if link.external_repo_id == ext.id:
                    raise koji.GenericError(f"tag {taginfo.name} already associated with "
                                            f"external repo {ext.name}")
                if link.priority == priority:
                    raise koji.GenericError(f"tag {taginfo.name} already associated with an "
                                            f"external repo at priority {priority}")
            normalized = " ".join(arches.replace(",", " ").split()) if arches else None
            taginfo.external_repos.append(TagExternalRepo(
                ext.id, priority, merge_mode, normalized, db.new_event(self.now())))

    # -- builds and rpms ---------------------------------------------------------------

    def add_build(self, name: str, version: str, release: str, epoch: int | None = None,
                  state: int = BUILD_COMPLETE, owner: int | str | None = None,
                  task_id: int | None = None, duration: float = 0.0) -> int:
        """A build, as if it had taken ``duration`` seconds to its end just now."""
        with self.core.lock:
            db = self.core.db
            now = self.now()
            owner_user = find_user(db, owner if owner is not None else self.default_owner)
            assert owner_user is not None
            db.package_id(name)
            build = Build(id=db.next_id("builds"), name=name, version=version, release=release,
                          epoch=epoch, state=state, owner=owner_user.id,
                          create_event=db.new_event(now), creation_ts=now - duration,
                          task_id=task_id, start_ts=now - duration, completion_ts=now)
            db.builds[build.id] = build
            db.record("build", build.id, None, koji.BUILD_STATES[state], now)
            return build.id

    def tag_build(self, tag: int | str, build: int | str) -> None:
        """Tag a build (no policy or package-list checks)."""
        with self.core.lock:
            db = self.core.db
            found = find_build(db, build)
            if found is None:
                raise KeyError(f"no build {build}")
            taginfo = get_tag(db, tag)
            taginfo.builds.append(found.id)
            taginfo.change_event = taginfo.tag_events[found.id] = db.new_event(self.now())

    def tagged(self, tag: int | str) -> list[str]:
        """NVRs tagged directly in ``tag``, oldest first."""
        with self.core.lock:
            db = self.core.db
            return [db.builds[b].nvr for b in get_tag(db, tag).builds]

    def add_rpm(
        self,
        name: str,
        version: str,
        release: str,
        arch: str,
        epoch: int | None = None,
        payloadhash: str | None = None,
        size: int = 1024,
        buildtime: int = 0,
        build_id: int | None = None,
        external_repo: int | str | None = None,
    ) -> int:
        """An rpm the hub knows (internal, or of ``external_repo``) → its id.
        ``payloadhash`` defaults to the md5 of ``N-V-R.A``."""
        with self.core.lock:
            db = self.core.db
            ext_id = get_external_repo(db, external_repo).id if external_repo else None
            nvra = f"{name}-{version}-{release}.{arch}"
            rpm = Rpm(id=db.next_id("rpms"), name=name, version=version, release=release,
                      arch=arch, epoch=epoch,
                      payloadhash=payloadhash or hashlib.md5(nvra.encode()).hexdigest(),
                      size=size, buildtime=buildtime, build_id=build_id,
                      external_repo_id=ext_id)
            db.rpms[rpm.id] = rpm
            return rpm.id

    def add_rpm_sig(self, rpm_id: int, sigkey: str, sighdr: bytes | None = None) -> None:
        """Record a signature of the rpm (the hub's ``rpmsigs``), as an import of a signed
        copy would; the test writes the copy at ``koji.pathinfo.signed`` itself. With
        ``sighdr`` the signature header is also stored where ``addRPMSig`` keeps it
        (``koji.pathinfo.sighdr``), for ``writeSignedRPM``."""
        with self.core.lock:
            rpm = self.core.db.rpms[rpm_id]
            if sigkey.lower() not in rpm.sigkeys:
                rpm.sigkeys.append(sigkey.lower())
            if sighdr is not None and rpm.build_id is not None:
                build = self.core.db.builds[rpm.build_id]
                paths = koji.PathInfo(topdir=str(self.topdir))
                info = {"name": rpm.name, "version": rpm.version, "release": rpm.release,
                        "arch": rpm.arch}
                path = Path(paths.build({"name": build.name, "version": build.version,
                                         "release": build.release})) \
                    / paths.sighdr(info, sigkey.lower())
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(sighdr)

    def build(self, build_id: int | str) -> dict[str, Any]:
        """``getBuild`` plus ``rpms`` (their ``N-V-R.A``)."""
        with self.core.lock:
            db = self.core.db
            found = find_build(db, build_id)
            if found is None:
                raise KeyError(f"no build {build_id}")
            info = build_info(db, found)
            info["rpms"] = sorted(f"{r.name}-{r.version}-{r.release}.{r.arch}"
                                  for r in db.rpms.values() if r.build_id == found.id)
            return info

    def buildroot(self, buildroot_id: int) -> dict[str, Any]:
        """``getBuildroot`` plus ``listing``: ``[(N-V-R.A, is_update), ...]``."""
        with self.core.lock:
            db = self.core.db
            br = db.buildroots[buildroot_id]
            info = buildroot_info(db, br)
            info["listing"] = [
                (f"{db.rpms[r].name}-{db.rpms[r].version}-{db.rpms[r].release}."
                 f"{db.rpms[r].arch}", upd)
                for r, upd in br.listing
            ]
            return info

    def buildroots(self, task_id: int | None = None) -> list[int]:
        with self.core.lock:
            return sorted(b.id for b in self.core.db.buildroots.values()
                          if task_id is None or b.task_id == task_id)

    def work_path(self, relpath: str = "") -> Path:
        """``<topdir>/work/<relpath>`` (upload and result paths are relative to it)."""
        return self.core.workdir / relpath
