"""ContainerRuntime over the Docker Engine API (docker-py)."""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
import requests

from adjutant.container import (
    ContainerInfo,
    ContainerRuntime,
    ContainerSpec,
    EngineTimeouts,
    EngineUnavailable,
    ImageInfo,
    ImageUnavailable,
    OutputStream,
    Stream,
)
from adjutant.container.http import TIMEOUT_ERRORS, UNAVAILABLE_ERRORS
from adjutant.container.platforms import from_oci
from adjutant.container.refs import label_changes, split_ref

log = logging.getLogger(__name__)

_CALL_ERRORS = (docker.errors.DockerException, requests.RequestException)

INSTALL_HINT = (
    "install and start dockerd (Debian: apt-get install docker.io, then run 'dockerd' or "
    "start its service), or choose another runtime with --runtime podman"
)


def _not_answering(url: str) -> str:
    return "dockerd is not installed" if shutil.which("dockerd") is None \
        else f"dockerd does not answer at {url}"


class _Attached(OutputStream):
    """The container's output through an attach made before it starts (docker's attach
    delivers only what it is attached for; ``logs=True`` covers anything earlier)."""

    def __init__(self, api: docker.APIClient, container_id: str) -> None:
        self._stream = api.attach(container_id, stdout=True, stderr=True, stream=True,
                                  logs=True, demux=True)
        self._closed = False

    def __iter__(self) -> Iterator[tuple[Stream, bytes]]:
        try:
            for out, err in self._stream:
                if out:
                    yield Stream.STDOUT, out
                if err:
                    yield Stream.STDERR, err
        except (OSError, ValueError, requests.RequestException):
            if not self._closed:
                raise

    def close(self) -> None:
        self._closed = True
        self._stream.close()


class DockerRuntime(ContainerRuntime):
    """Talks to dockerd at ``url``."""

    name = "docker"
    timeout_errors = TIMEOUT_ERRORS
    unavailable_errors = UNAVAILABLE_ERRORS
    call_errors = _CALL_ERRORS

    def __init__(self, url: str, timeouts: EngineTimeouts | None = None) -> None:
        self.url = url
        self.timeouts = timeouts or EngineTimeouts()
        # docker-py bounds every call by the client's timeout unless it passes its own;
        # attach streams drop the bound themselves.
        try:
            # Asks the engine its API version at once: an engine that is down shows here.
            self.client = docker.DockerClient(base_url=url, timeout=self.timeouts.api)
        except _CALL_ERRORS as exc:
            raise EngineUnavailable(f"{_not_answering(url)} ({exc}): {INSTALL_HINT}") from exc
        self.api: docker.APIClient = self.client.api
        self._layers_lock = threading.Lock()
        self._layers: docker.APIClient | None = None

    @property
    def _layers_api(self) -> docker.APIClient:
        """A client for the calls that write or delete layers (commit, import, removals):
        they get the longer ``commit`` bound. Made on first use, once, whichever thread
        asks first."""
        with self._layers_lock:
            if self._layers is None:
                self._layers = docker.APIClient(base_url=self.url,
                                                timeout=self.timeouts.commit,
                                                version=self.api.api_version)
            return self._layers

    def ping(self) -> None:
        try:
            self.api.ping()
        except _CALL_ERRORS as exc:
            raise EngineUnavailable(f"{_not_answering(self.url)} ({exc}): {INSTALL_HINT}") \
                from exc

    def version(self) -> str:
        return str(self._engine_call("asking its version", self.api.version)["Version"])

    def storage_path(self) -> Path:
        return self._path_in_info(self.api.info, "DockerRootDir")

    # -- images ------------------------------------------------------------------------

    def inspect_image(self, ref: str) -> ImageInfo | None:
        with self._engine_errors(f"looking up image {ref!r}"):
            try:
                info = self.api.inspect_image(ref)
            except docker.errors.ImageNotFound:
                return None
        return ImageInfo(str(info["Id"]), dict((info.get("Config") or {}).get("Labels") or {}),
                         int(info.get("Size") or 0), from_oci(str(info.get("Architecture") or "")))

    def pull(self, ref: str, timeout: float, platform: str | None = None) -> str:
        puller = docker.APIClient(base_url=self.url, timeout=int(timeout),
                                  version=self.api.api_version)
        try:
            repo, tag = split_ref(ref)
            puller.pull(repo, tag=tag, platform=platform)
        except (docker.errors.APIError, requests.RequestException) as exc:
            raise ImageUnavailable(ref, f"docker pull failed: {exc}") from exc
        finally:
            puller.close()
        image_id = self.image_id(ref)
        if image_id is None:
            raise ImageUnavailable(ref, "docker pull finished but the image is not there")
        return image_id

    def import_rootfs(self, tarball: Path, ref: str, labels: Mapping[str, str]) -> str:
        repo, tag = split_ref(ref)
        # docker-py sends imports without any bound (see EngineTimeouts).
        with self._engine_errors(f"importing {tarball.name} as {ref}", "commit"):
            self._layers_api.import_image_from_file(
                str(tarball), repository=repo, tag=tag, changes=label_changes(labels))
        return self._id_after(ref, "import of")

    def load_archive(self, archive: Path, ref: str) -> str:
        with self._engine_errors(f"loading {archive.name} as {ref}", "commit"), \
                open(archive, "rb") as body:
            self._layers_api.load_image(body)
        return self._id_after(ref, "load of")

    def remove_image(self, ref: str, force: bool = True) -> None:
        with self._engine_errors(f"removing image {ref!r}", "commit"), \
                contextlib.suppress(docker.errors.ImageNotFound):
            self._layers_api.remove_image(ref, force=force)

    def tag_image(self, ref: str, new_ref: str) -> None:
        repo, tag = split_ref(new_ref)
        self._engine_call(f"tagging {ref} as {new_ref}", lambda: self.api.tag(ref, repo, tag))

    def image_names(self, repository: str) -> list[str]:
        images = self._engine_call(f"listing images of {repository}",
                                   lambda: self.api.images(name=repository))
        return sorted(t for image in images for t in (image.get("RepoTags") or [])
                      if split_ref(t)[0] == repository)

    # -- containers --------------------------------------------------------------------

    def create(self, spec: ContainerSpec) -> str:
        host_config = self.api.create_host_config(
            mounts=[docker.types.Mount(m.target, str(m.source), type="bind",
                                       read_only=not m.writable) for m in spec.mounts],
            network_mode=spec.network_mode if spec.network else "none",
            cap_drop=["ALL"],
            cap_add=list(spec.capabilities) or None,
            security_opt=["no-new-privileges"],
            privileged=False,
            mem_limit=spec.limits.memory_bytes,
            # Swap counts against the limit too: otherwise a host with swap lets it slip.
            memswap_limit=spec.limits.memory_bytes,
            pids_limit=spec.limits.pids,
            nano_cpus=int(spec.limits.cpus * 1e9) if spec.limits.cpus else None,
            ulimits=[docker.types.Ulimit(name=name, soft=soft, hard=hard)
                     for name, soft, hard in spec.limits.ulimits] or None,
        )
        with self._engine_errors(f"creating a container from {spec.image}"):
            try:
                created = self.api.create_container(
                    spec.image, command=list(spec.command), user=spec.user or "",
                    environment=dict(spec.environment), working_dir=spec.workdir,
                    labels=spec.all_labels(), name=spec.name, host_config=host_config,
                    network_disabled=not spec.network, platform=spec.platform,
                )
            except docker.errors.ImageNotFound as exc:
                raise ImageUnavailable(spec.image, "not present locally") from exc
        return str(created["Id"])

    def container_state(self, container_id: str) -> Mapping[str, Any]:
        info = self._engine_call(f"inspecting {container_id}",
                                 lambda: self.api.inspect_container(container_id))
        return dict(info.get("State") or {})

    def output(self, container_id: str) -> OutputStream:
        return self._engine_call(f"attaching to the output of {container_id}",
                                 lambda: _Attached(self.api, container_id))

    def read_output(self, container_id: str) -> Iterator[tuple[Stream, bytes]]:
        def logs(stream: Stream) -> bytes:
            return bytes(self.api.logs(container_id, stdout=stream is Stream.STDOUT,
                                       stderr=stream is Stream.STDERR))

        for stream in (Stream.STDOUT, Stream.STDERR):
            data = self._engine_call(f"reading the output of {container_id}",
                                     functools.partial(logs, stream))
            if data:
                yield stream, data

    def start(self, container_id: str) -> None:
        self._engine_call(f"starting {container_id}", lambda: self.api.start(container_id))

    def wait(self, container_id: str, timeout: float | None) -> int:
        with self._engine_errors(f"waiting for {container_id}"):
            try:
                # timeout=None is passed on as it is: docker-py then waits without a bound.
                result = self.api.wait(container_id, timeout=timeout)
            except _CALL_ERRORS as exc:
                if timeout is not None and self._timed_out(exc):
                    raise TimeoutError(f"container {container_id} still running after "
                                       f"{timeout}s") from exc
                raise
        return int(result["StatusCode"])

    def kill(self, container_id: str) -> None:
        with self._engine_errors(f"killing {container_id}"):
            try:
                self.api.kill(container_id, signal="KILL")
            except docker.errors.APIError as exc:
                if exc.status_code not in (404, 409):  # gone, or not running
                    raise

    def remove(self, container_id: str) -> None:
        with self._engine_errors(f"removing {container_id}", "commit"):
            try:
                self._layers_api.remove_container(container_id, force=True)
            except docker.errors.APIError as exc:
                if exc.status_code not in (404, 409):  # gone, or removal in progress
                    raise

    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        found = self._engine_call("listing containers", lambda: self.api.containers(
            all=True, filters={"label": [f"{k}={v}" for k, v in labels.items()]}))
        return [
            ContainerInfo(c["Id"], (c.get("Names") or ["?"])[0].lstrip("/"), c.get("State", ""),
                          dict(c.get("Labels") or {}))
            for c in found
        ]

    def commit(self, container_id: str, ref: str, labels: Mapping[str, str]) -> str:
        repo, tag = split_ref(ref)
        self._engine_call(f"committing {container_id} as {ref}", lambda: self._layers_api.commit(
            container_id, repository=repo, tag=tag, pause=False, changes=label_changes(labels)),
            "commit")
        return self._id_after(ref, "commit to")

    def close(self) -> None:
        self.client.close()
        if self._layers is not None:
            self._layers.close()

