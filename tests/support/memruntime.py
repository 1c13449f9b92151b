"""An in-memory container runtime for fast tests of the core's logic (no engine).

A container "runs" a Python program chosen by its command's first word: a callable that
gets the spec and the container's mounts mapped to host paths, writes what it likes into
writable mounts, and returns its output chunks and exit code. Nothing is isolated: it is
for testing how the core drives a runtime (the runner, the steps, the handlers' logic),
never a substitute for the real-engine conformance and end-to-end tests.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from adjutant.container.errors import ContainerError, ImageUnavailable
from adjutant.container.runtime import ContainerInfo, ContainerRuntime, ImageInfo, OutputStream
from adjutant.container.spec import ContainerSpec, Stream


@dataclass(frozen=True)
class Run:
    """What a program sees: the spec and where each mount target lives on the host."""

    spec: ContainerSpec
    paths: Mapping[str, Path]

    def path(self, inside: str) -> Path:
        """The host path of ``inside`` (under one of the container's mounts)."""
        for target, source in sorted(self.paths.items(), key=lambda kv: -len(kv[0])):
            if inside == target or inside.startswith(target.rstrip("/") + "/"):
                return source / inside[len(target):].lstrip("/")
        raise ContainerError(f"{inside} is not under any mount of this container")


#: A program: given the run, returns ``(output chunks, exit code)``.
Program = Callable[[Run], tuple[Sequence[tuple[Stream, bytes]], int]]


@dataclass
class _Container:
    spec: ContainerSpec
    output: list[tuple[Stream, bytes]] = field(default_factory=list)
    exit_code: int | None = None
    done: threading.Event = field(default_factory=threading.Event)
    started: bool = False


class _Output(OutputStream):
    def __init__(self, container: _Container) -> None:
        self._container = container
        self._closed = False

    def __iter__(self) -> Iterator[tuple[Stream, bytes]]:
        self._container.done.wait()
        if not self._closed:
            yield from self._container.output

    def close(self) -> None:
        self._closed = True


class MemoryRuntime(ContainerRuntime):
    """Containers as Python programs, images as names. ``programs`` maps a command's
    first word to its program; an unknown one exits 127 saying so."""

    name = "memory"

    def __init__(self, programs: Mapping[str, Program] | None = None,
                 images: Sequence[str] = ("localhost/memory:latest",)) -> None:
        self.programs = dict(programs or {})
        self.images: dict[str, ImageInfo] = {
            ref: ImageInfo(f"sha256:{hashlib.sha256(ref.encode()).hexdigest()}")
            for ref in images}
        self.containers: dict[str, _Container] = {}
        self.created: list[ContainerSpec] = []
        self._ids = itertools.count(1)

    # -- images ------------------------------------------------------------------------

    def ping(self) -> None:
        return None

    def version(self) -> str:
        return "memory 1"

    def inspect_image(self, ref: str) -> ImageInfo | None:
        if ref in self.images:
            return self.images[ref]
        return next((i for i in self.images.values() if i.id == ref), None)

    def pull(self, ref: str, timeout: float, platform: str | None = None) -> str:
        raise ImageUnavailable(ref, "the memory runtime has no registry")

    def import_rootfs(self, tarball: Path, ref: str, labels: Mapping[str, str]) -> str:
        return self.commit("", ref, labels)

    def commit(self, container_id: str, ref: str, labels: Mapping[str, str]) -> str:
        info = ImageInfo(f"sha256:{hashlib.sha256(f'{ref}{container_id}'.encode()).hexdigest()}",
                         dict(labels))
        self.images[ref] = info
        return info.id

    def remove_image(self, ref: str, force: bool = True) -> None:
        self.images.pop(ref, None)

    def tag_image(self, ref: str, new_ref: str) -> None:
        info = self.inspect_image(ref)
        if info is None:
            raise ContainerError(f"memory: no image {ref}")
        self.images[new_ref] = info

    def image_names(self, repository: str) -> list[str]:
        return sorted(r for r in self.images if r.rsplit(":", 1)[0] == repository)

    # -- containers --------------------------------------------------------------------

    def create(self, spec: ContainerSpec) -> str:
        if self.inspect_image(spec.image) is None:
            raise ImageUnavailable(spec.image, "not present locally")
        container_id = f"mem{next(self._ids):061d}"
        self.containers[container_id] = _Container(spec)
        self.created.append(spec)
        return container_id

    def _get(self, container_id: str) -> _Container:
        try:
            return self.containers[container_id]
        except KeyError:
            raise ContainerError(f"memory: no container {container_id}") from None

    def output(self, container_id: str) -> OutputStream:
        return _Output(self._get(container_id))

    def read_output(self, container_id: str) -> Iterator[tuple[Stream, bytes]]:
        return iter(list(self._get(container_id).output))

    def start(self, container_id: str) -> None:
        container = self._get(container_id)
        container.started = True
        program = self.programs.get(container.spec.command[0])
        if program is None:
            container.output = [(Stream.STDERR,
                                 f"{container.spec.command[0]}: not found\n".encode())]
            container.exit_code = 127
        else:
            paths = {m.target: Path(m.source) for m in container.spec.mounts}
            container.output, container.exit_code = (lambda out: (list(out[0]), out[1]))(
                program(Run(container.spec, paths)))
        container.done.set()

    def wait(self, container_id: str, timeout: float | None) -> int:
        container = self._get(container_id)
        if not container.done.wait(timeout):
            raise TimeoutError(container_id)
        assert container.exit_code is not None
        return container.exit_code

    def kill(self, container_id: str) -> None:
        container = self._get(container_id)
        container.exit_code = 137
        container.done.set()

    def remove(self, container_id: str) -> None:
        container = self.containers.pop(container_id, None)
        if container is not None:
            container.done.set()

    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        return [ContainerInfo(cid, cid, "exited" if c.done.is_set() else "running",
                              c.spec.all_labels())
                for cid, c in self.containers.items()
                if all(c.spec.all_labels().get(k) == v for k, v in labels.items())]
