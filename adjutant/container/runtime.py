"""The interface every container runtime plugin implements."""

from __future__ import annotations

import abc
import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from adjutant.container.cgroups import OomWatch, find_memory_cgroup
from adjutant.container.errors import ContainerError, EngineTimeout, EngineUnavailable
from adjutant.container.sockets import socket_path
from adjutant.container.spec import ContainerSpec, Stream

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Which of :class:`EngineTimeouts`' limits an engine call is given.
Bound = Literal["api", "commit"]


@dataclass(frozen=True)
class ContainerInfo:
    """A container as the engine lists it."""

    id: str
    name: str
    status: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineTimeouts:
    """How long an engine call may take before the engine counts as wedged, in seconds.

    ``api`` bounds the calls that should answer at once (create, start, inspect, kill,
    list, tag); ``commit`` the calls that write or delete filesystem layers, whose time
    grows with the buildroot (commit, import, container and image removal). Waiting for a
    container and following its output are bounded by the build's own timeout instead, and
    pulls by ``container_timeouts`` ``pull``. A call that overruns fails with
    ContainerError, so a hung engine fails the task instead of holding its slot forever.
    (docker-py gives pulls and imports no bound at all; the docker runtime cannot add one.)
    """

    api: float = 60.0
    commit: float = 3600.0


@dataclass(frozen=True)
class ImageInfo:
    """A local image as the engine describes it: one inspect call gives all of this."""

    id: str  # always "sha256:..."
    labels: Mapping[str, str] = field(default_factory=dict)
    size: int = 0
    #: The image's arch as rpm names it (``aarch64``, from the OCI ``arm64``); None when
    #: the engine does not say or names an arch adjutant has no platform for.
    arch: str | None = None


class OutputStream(abc.ABC):
    """A container's output as ``(stream, bytes)`` chunks, in the order the engine saw them.

    Iteration ends when the container has exited and all output was delivered. ``close()``
    may be called from another thread to abort an iteration that would otherwise block.
    """

    @abc.abstractmethod
    def __iter__(self) -> Iterator[tuple[Stream, bytes]]: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def finish(self) -> bool:
        """The container has exited: deliver what is left and end without waiting to
        notice the exit by polling. True when the stream will do so now; False (the
        default) when it cannot end sooner than it would by itself. A runtime whose
        follower lags (``follow_lags``) then has the rest read with ``read_output``.
        Called from another thread than the iteration's, at most once per stream."""
        return False


class ContainerRuntime(abc.ABC):
    """One container engine, driven through its API.

    Implementations are created in the process that uses them (engine clients are never
    inherited across a fork) and must be safe to call from several threads at once: the
    runner reads output on one thread while it waits on another, and a task's deferred
    cleanup removes its finished containers on a third while the next one runs.
    Every method raises :class:`~adjutant.container.ContainerError` (or a subclass) with a
    message that names the operation, instead of engine-specific exceptions.
    """

    #: The name config and the command line use to pick this runtime.
    name: str
    #: Bounds for this runtime's engine calls (the plugin's factory sets them from config).
    timeouts: EngineTimeouts = EngineTimeouts()
    #: Exception types that, anywhere in an error's cause chain, mean a call timed out.
    timeout_errors: tuple[type[BaseException], ...] = ()
    #: What the runtime's SDK raises when a call fails (``_engine_call`` maps these).
    call_errors: tuple[type[BaseException], ...] = ()
    #: Exception types that, anywhere in an error's cause chain, mean the engine could
    #: not be reached (checked after ``timeout_errors``).
    unavailable_errors: tuple[type[BaseException], ...] = ()
    #: True when the engine keeps a container's whole output until removal, and its
    #: follower notices the exit only after a polling delay: as soon as ``wait``
    #: returns, the runner tells the follower (``OutputStream.finish``), and when it
    #: cannot end at once, reads the remainder with ``read_output`` instead of waiting.
    follow_lags: bool = False

    @abc.abstractmethod
    def ping(self) -> None:
        """Check the engine answers (cheaply). Raise ``EngineUnavailable`` if not."""

    @abc.abstractmethod
    def version(self) -> str:
        """The engine's version string (may be slow: for reports, not for every task)."""

    def storage_path(self) -> Path:
        """The directory where the engine keeps images and container layers, as the engine
        itself reports it (podman's graph root, docker's ``DockerRootDir``).

        The path is on the engine's machine: it exists here only for a local engine. Raise
        ContainerError when the engine cannot be asked; runtimes that cannot tell at all
        keep this default, which raises NotImplementedError.
        """
        raise NotImplementedError(f"the {self.name} runtime does not report its storage "
                                  "directory")

    @abc.abstractmethod
    def inspect_image(self, ref: str) -> ImageInfo | None:
        """Id, labels and size of local image ``ref`` in one call; None when it is absent."""

    def image_id(self, ref: str) -> str | None:
        """The local image's id (``sha256:...``) for ``ref``, or None when it is not present."""
        info = self.inspect_image(ref)
        return info.id if info else None

    @abc.abstractmethod
    def pull(self, ref: str, timeout: float, platform: str | None = None) -> str:
        """Pull ``ref`` from its registry and return its image id; ``ImageUnavailable`` if not.

        ``platform`` (``linux/arm64``) picks that platform's image of a multi-arch ref;
        None means the engine's own.
        """

    @abc.abstractmethod
    def import_rootfs(self, tarball: Path, ref: str, labels: Mapping[str, str]) -> str:
        """Import a root filesystem tarball as image ``ref`` (of the engine's own arch) and
        return its id."""

    def load_archive(self, archive: Path, ref: str) -> str:
        """Load a ``docker-archive`` tarball (what ``docker save`` writes) holding image
        ``ref``, and return the loaded image's id. The archive's image config is kept as
        it is, its arch included (how a foreign-arch image is brought in). Runtimes that
        cannot load archives keep this default, which raises ContainerError."""
        raise ContainerError(f"the {self.name} runtime cannot load image archives")

    def image_labels(self, ref: str) -> dict[str, str]:
        """The labels of local image ``ref`` (empty when it has none or is not present)."""
        info = self.inspect_image(ref)
        return dict(info.labels) if info else {}

    @abc.abstractmethod
    def create(self, spec: ContainerSpec) -> str:
        """Create (not start) a container for ``spec``; return its id."""

    @abc.abstractmethod
    def output(self, container_id: str) -> OutputStream:
        """Follow the container's stdout and stderr from its very first byte.

        Called after ``create`` and before ``start``; iteration begins after ``start``. An
        engine that can only deliver output it saw while attached must attach here, before
        returning; one that keeps the whole output may connect lazily when iterated.
        """

    @abc.abstractmethod
    def read_output(self, container_id: str) -> Iterator[tuple[Stream, bytes]]:
        """All output so far, without following (used to recover after a stuck follower)."""

    @abc.abstractmethod
    def start(self, container_id: str) -> None:
        """Start a created container."""

    @abc.abstractmethod
    def wait(self, container_id: str, timeout: float | None) -> int:
        """Block until the container exits and return its exit code.

        Raise ``TimeoutError`` when ``timeout`` seconds pass first (the container keeps
        running; the caller decides to kill it).
        """

    @abc.abstractmethod
    def kill(self, container_id: str) -> None:
        """Kill the container's processes at once (SIGKILL). No error if it already exited."""

    @abc.abstractmethod
    def remove(self, container_id: str) -> None:
        """Remove the container, killing it first if needed, without a grace period.

        No error if it is already gone.
        """

    @abc.abstractmethod
    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        """Every container (running or not) carrying all of ``labels``."""

    @abc.abstractmethod
    def commit(self, container_id: str, ref: str, labels: Mapping[str, str]) -> str:
        """Save the container's filesystem as image ``ref``; return the image id."""

    @abc.abstractmethod
    def remove_image(self, ref: str, force: bool = True) -> None:
        """Remove a local image (a tag of it, when it has several); no error if absent.

        Without ``force``, an image a container still uses is kept and ContainerError raised.
        """

    @abc.abstractmethod
    def tag_image(self, ref: str, new_ref: str) -> None:
        """Give local image ``ref`` the additional name ``new_ref``."""

    @abc.abstractmethod
    def image_names(self, repository: str) -> list[str]:
        """Every local ``repository:tag`` name in ``repository`` (e.g. to sweep leftovers)."""

    def image_size(self, ref: str) -> int | None:
        """The local image's size in bytes, or None when it is not present."""
        info = self.inspect_image(ref)
        return info.size if info else None

    def container_state(self, container_id: str) -> Mapping[str, Any]:
        """The ``State`` object of the engine's inspect answer for the container (``Pid``,
        ``OOMKilled``, ``ExitCode``...: the Docker API's names, which podman shares).

        Runtimes that cannot inspect keep this default, which raises NotImplementedError;
        they then report no OOM kills.
        """
        raise NotImplementedError(f"the {self.name} runtime cannot inspect containers")

    def engine_is_local(self) -> bool:
        """True when the engine runs on this machine (it is reached over a unix socket),
        so that its pids and cgroups are this machine's."""
        return socket_path(str(getattr(self, "url", ""))) is not None

    def watch_memory(self, container_id: str) -> OomWatch | None:
        """Start keeping the OOM-kill count of a running container's memory cgroup.

        Call right after ``start``: the engine removes the cgroup when the container
        exits, so :meth:`oom_killed` could not read it afterwards. None (never an error)
        when the engine is not local or the cgroup cannot be found; close the watch after
        use.
        """
        if not self.engine_is_local():
            return None
        try:
            pid = int(self.container_state(container_id).get("Pid") or 0)
        except (NotImplementedError, ContainerError, ValueError) as exc:
            log.debug("cannot watch the memory of %s: %s", container_id, exc)
            return None
        cgroup = find_memory_cgroup(pid, container_id) if pid > 0 else None
        return OomWatch(cgroup) if cgroup is not None else None

    def oom_killed(self, container_id: str, watch: OomWatch | None = None) -> bool:
        """True when the kernel killed any process of the exited (not yet removed)
        container for want of memory: the engine's ``State.OOMKilled`` (the first
        process) or the memory cgroup's own count kept by ``watch`` (every process).

        An engine that cannot be asked counts as "no" (logged): the OOM fact explains a
        failure, it must not cause one.
        """
        if watch is not None and watch.kills > 0:
            return True
        try:
            return bool(self.container_state(container_id).get("OOMKilled"))
        except (NotImplementedError, ContainerError) as exc:
            log.warning("could not ask the engine whether %s ran out of memory: %s",
                        container_id, exc)
            return False

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine client's connections."""

    def _timed_out(self, exc: BaseException) -> bool:
        """True when ``exc`` or anything in its cause chain is one of ``timeout_errors``."""
        return _in_chain(exc, self.timeout_errors)

    @contextlib.contextmanager
    def _engine_errors(self, what: str, bound: Bound = "api") -> Iterator[float]:
        """The one door for SDK calls: yields the seconds of limit ``bound`` for the call
        made inside the block, and turns what the SDK raises there (``call_errors``) into
        the contract's error via :meth:`_failed`, naming ``what`` and that same bound.

        Errors the block raises itself (a ContainerError, or an SDK error it handles, such
        as "not found" meaning absent) pass through untouched.
        """
        try:
            yield getattr(self.timeouts, bound)
        except self.call_errors as exc:
            raise self._failed(what, exc, bound) from exc

    def _engine_call(self, what: str, call: Callable[[], T], bound: Bound = "api") -> T:
        """Run one SDK call through :meth:`_engine_errors` and return its answer."""
        with self._engine_errors(what, bound):
            return call()

    def _failed(self, what: str, exc: BaseException, bound: Bound = "api") -> ContainerError:
        """The error for a failed engine call ``what`` (e.g. "creating a container").

        An :class:`EngineTimeout` naming the ``container_timeouts`` key when the call ran
        out of time (``bound`` says which limit applied), else a ContainerError carrying the
        engine's own message. For implementations; raise the result ``from exc``.
        """
        if self._timed_out(exc):
            seconds = getattr(self.timeouts, bound)
            return EngineTimeout(
                f"{self.name}: {what} got no answer within {seconds:g}s; the {self.name} "
                f"service may be hung (the bound is container_timeouts {bound}=...)")
        if _in_chain(exc, self.unavailable_errors):
            return EngineUnavailable(f"{self.name}: {what} failed, the {self.name} service "
                                     f"cannot be reached: {exc}")
        return ContainerError(f"{self.name}: {what} failed: {exc}")

    def _path_in_info(self, info: Callable[[], Any], *keys: str) -> Path:
        """For implementations of :meth:`storage_path`: the path found under ``keys`` (one
        per nesting level) in the answer of the SDK's engine-info call ``info``; an answer
        without those keys is a ContainerError too."""
        value = self._engine_call("reading the engine's info", info)
        for key in keys:
            if not isinstance(value, Mapping) or not value.get(key):
                raise ContainerError(f"{self.name}: the engine's info has no "
                                     f"{'.'.join(keys)}")
            value = value[key]
        return Path(str(value))

    def _id_after(self, ref: str, action: str) -> str:
        """The id of image ``ref`` that ``action`` (import, commit) just made."""
        image_id = self.image_id(ref)
        if image_id is None:
            raise ContainerError(f"{self.name}: {action} {ref} finished but the image is "
                                 "not there")
        return image_id


def _in_chain(exc: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    """True when ``exc`` or anything in its cause chain is one of ``types``."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, types):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
