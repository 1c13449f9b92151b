"""The fake hub's database: plain dataclasses in dicts keyed by id.

Everything a call may change lives in one :class:`HubDB`, so the dispatcher can take a deep
copy before a call and put it back when the call faults (the real hub rolls the transaction
back). Objects here hold raw values only; turning them into the dicts the real hub returns
is the job of :mod:`.views`.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

import koji

TASK_FREE = koji.TASK_STATES["FREE"]
TASK_OPEN = koji.TASK_STATES["OPEN"]
TASK_CLOSED = koji.TASK_STATES["CLOSED"]
TASK_CANCELED = koji.TASK_STATES["CANCELED"]
TASK_ASSIGNED = koji.TASK_STATES["ASSIGNED"]
TASK_FAILED = koji.TASK_STATES["FAILED"]
TASK_FINISHED = (TASK_CLOSED, TASK_CANCELED, TASK_FAILED)

BR_INIT = koji.BR_STATES["INIT"]
BR_BUILDING = koji.BR_STATES["BUILDING"]
BR_EXPIRED = koji.BR_STATES["EXPIRED"]

BUILD_BUILDING = koji.BUILD_STATES["BUILDING"]
BUILD_COMPLETE = koji.BUILD_STATES["COMPLETE"]
BUILD_FAILED = koji.BUILD_STATES["FAILED"]
BUILD_CANCELED = koji.BUILD_STATES["CANCELED"]

REPO_INIT = koji.REPO_STATES["INIT"]
REPO_READY = koji.REPO_STATES["READY"]

USER_NORMAL = koji.USERTYPES["NORMAL"]
USER_HOST = koji.USERTYPES["HOST"]


def format_time(ts: float | None) -> str | None:
    """A timestamp as the hub prints times: ``'2026-11-26 03:03:27.590000+00:00'``."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat(" ")


@dataclass
class User:
    id: int
    name: str
    password: str | None
    usertype: int = USER_NORMAL
    status: int = koji.USER_STATUS["NORMAL"]
    perms: set[str] = field(default_factory=set)


@dataclass
class Session:
    id: int
    key: str
    user_id: int
    authtype: int
    start_ts: float
    master: int | None = None
    exclusive: bool = False
    expired: bool = False
    closed: bool = False
    #: The last callnum recorded by a call that changed something (None: nothing yet).
    callnum: int | None = None
    update_ts: float | None = None
    renew_ts: float | None = None


@dataclass
class Channel:
    id: int
    name: str
    enabled: bool = True


@dataclass
class Host:
    id: int
    user_id: int
    name: str
    arches: list[str]
    capacity: float
    channels: list[int]
    enabled: bool = True
    description: str | None = None
    comment: str | None = None
    ready: bool = False
    task_load: float = 0.0
    update_ts: float | None = None
    #: What the host last sent as ``updateHost(..., data)`` / ``setHostData``.
    data: dict[str, Any] | None = None


@dataclass
class Task:
    id: int
    method: str
    #: The XML-RPC ``methodCall`` document of the params, as the hub stores it.
    request: str
    state: int
    owner: int
    channel_id: int
    arch: str
    priority: int
    create_ts: float
    parent: int | None = None
    label: str | None = None
    host_id: int | None = None
    waiting: bool | None = None
    awaited: bool | None = None
    weight: float = 1.0
    #: What closeTask/failTask sent, stored verbatim (normally a ``methodResponse`` string).
    result: Any = None
    start_ts: float | None = None
    completion_ts: float | None = None


@dataclass
class Refusal:
    task_id: int
    host_id: int
    soft: bool
    by_host: bool
    msg: str
    ts: float


@dataclass
class TaskRun:
    """A scheduler assignment; AssignTimeout/HostTimeout only act on tasks that have one."""

    task_id: int
    host_id: int
    create_ts: float
    active: bool = True


@dataclass
class Event:
    id: int
    ts: float


@dataclass
class PackageEntry:
    blocked: bool = False
    extra_arches: str | None = None
    owner_id: int | None = None


@dataclass
class TagExternalRepo:
    """An external repo attached to a tag (``koji add-external-repo -t TAG``)."""

    external_repo_id: int
    priority: int
    merge_mode: str
    arches: str | None
    create_event: int


@dataclass
class Tag:
    id: int
    name: str
    arches: str | None
    extra: dict[str, Any]
    #: Parent tag ids, highest priority first.
    parents: list[int]
    locked: bool = False
    perm: str | None = None
    packages: dict[str, PackageEntry] = field(default_factory=dict)
    #: Tagged build ids, newest last.
    builds: list[int] = field(default_factory=list)
    #: The event each tagged build was tagged at (build id → event id; none: before any).
    #: Untagging keeps no history: ``listTagged(event=...)`` never shows untagged builds.
    tag_events: dict[int, int] = field(default_factory=dict)
    #: Comps groups: group name → package names (``build``, ``srpm-build``, ...).
    groups: dict[str, list[str]] = field(default_factory=dict)
    #: The event of the tag's last change (creation, tagging).
    change_event: int = 0
    #: The event the tag was made at.
    create_event: int = 0
    #: Attached external repos, in the order they were added.
    external_repos: list[TagExternalRepo] = field(default_factory=list)


@dataclass
class Target:
    id: int
    name: str
    build_tag: int
    dest_tag: int


@dataclass
class Repo:
    id: int
    tag_id: int
    state: int
    create_event: int
    creation_ts: float
    task_id: int | None = None
    opts: dict[str, Any] = field(default_factory=dict)
    dist: bool = False


@dataclass
class ExternalRepo:
    id: int
    name: str
    url: str


@dataclass
class Rpm:
    id: int
    name: str
    version: str
    release: str
    arch: str
    epoch: int | None
    payloadhash: str
    size: int
    buildtime: int
    build_id: int | None = None
    buildroot_id: int | None = None
    external_repo_id: int | None = None
    draft: bool = False
    #: Signature keys the hub knows for it (``rpmsigs``; lower-case hex, ``''`` for the
    #: header of the rpm as imported, unsigned).
    sigkeys: list[str] = field(default_factory=lambda: [""])


@dataclass
class Build:
    id: int
    name: str
    version: str
    release: str
    epoch: int | None
    state: int
    owner: int
    create_event: int
    creation_ts: float
    task_id: int | None = None
    source: str | None = None
    extra: dict[str, Any] | None = None
    start_ts: float | None = None
    completion_ts: float | None = None
    draft: bool = False

    @property
    def nvr(self) -> str:
        return f"{self.name}-{self.version}-{self.release}"


@dataclass
class Buildroot:
    id: int
    host_id: int
    repo_id: int
    task_id: int
    arch: str
    container_type: str
    state: int
    create_event: int
    retire_event: int | None = None
    #: ``(rpm_id, is_update)`` pairs, in insertion order.
    listing: list[tuple[int, bool]] = field(default_factory=list)


@dataclass
class Transition:
    """One recorded state change, for tests to assert on (see :class:`HubHistory`)."""

    kind: str  # "task" | "buildroot" | "build" | "repo"
    obj_id: int
    old: str | None
    new: str
    ts: float


@dataclass
class HubDB:
    """All mutable hub state. Ids come from per-table sequences starting at 1."""

    users: dict[int, User] = field(default_factory=dict)
    sessions: dict[int, Session] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    hosts: dict[int, Host] = field(default_factory=dict)
    tasks: dict[int, Task] = field(default_factory=dict)
    refusals: dict[tuple[int, int], Refusal] = field(default_factory=dict)
    task_runs: list[TaskRun] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    tags: dict[int, Tag] = field(default_factory=dict)
    targets: dict[int, Target] = field(default_factory=dict)
    repos: dict[int, Repo] = field(default_factory=dict)
    external_repos: dict[int, ExternalRepo] = field(default_factory=dict)
    rpms: dict[int, Rpm] = field(default_factory=dict)
    builds: dict[int, Build] = field(default_factory=dict)
    buildroots: dict[int, Buildroot] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    #: Package ids by name (packages exist once named by a tag listing or a build).
    packages: dict[str, int] = field(default_factory=dict)
    scheduler_last_run: float | None = None
    sequences: dict[str, int] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        """The next id of ``table``'s sequence."""
        value = self.sequences.get(table, 0) + 1
        self.sequences[table] = value
        return value

    def package_id(self, name: str) -> int:
        """The package's id, creating the package on first use."""
        if name not in self.packages:
            self.packages[name] = self.next_id("packages")
        return self.packages[name]

    def new_event(self, ts: float) -> int:
        """Record a new event (the real hub makes one per changing transaction); its id."""
        event = Event(id=self.next_id("events"), ts=ts)
        self.events.append(event)
        return event.id

    def last_event(self) -> Event:
        return self.events[-1]

    def record(self, kind: str, obj_id: int, old: str | None, new: str, ts: float) -> None:
        """Append a state transition to the history (rolled back with the call on a fault)."""
        self.transitions.append(Transition(kind, obj_id, old, new, ts))

    # -- look-ups shared by the API modules ----------------------------------------------

    def user_by_name(self, name: str) -> User | None:
        return next((u for u in self.users.values() if u.name == name), None)

    def host_by_user(self, user_id: int) -> Host | None:
        return next((h for h in self.hosts.values() if h.user_id == user_id), None)

    def channel_by_name(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name), None)

    def tag_by_name(self, name: str) -> Tag | None:
        return next((t for t in self.tags.values() if t.name == name), None)

    def external_repo_by_name(self, name: str) -> ExternalRepo | None:
        return next((r for r in self.external_repos.values() if r.name == name), None)

    def children(self, task_id: int) -> list[Task]:
        return [t for t in self.tasks.values() if t.parent == task_id]
