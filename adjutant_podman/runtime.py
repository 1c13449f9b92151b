"""ContainerRuntime over podman's libpod API (podman-py)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import podman
import podman.errors
import requests

from adjutant.container import (
    Bound,
    ContainerError,
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
from adjutant.container.frames import iter_frames
from adjutant.container.http import TIMEOUT_ERRORS, UNAVAILABLE_ERRORS
from adjutant.container.platforms import from_oci
from adjutant.container.rawhttp import UnixStream
from adjutant.container.refs import label_changes, split_ref
from adjutant.container.sockets import socket_answers, socket_path, wait_for_socket
from adjutant_podman.logfile import K8sLogFollow, file_then_api, k8s_log_path, read_k8s_log
from adjutant_podman.ulimits import with_defaults

log = logging.getLogger(__name__)

#: Forced removals tried while podman says the container's state is improper.
_REMOVE_ATTEMPTS = 10

#: What a failed podman-py call raises (a timeout arrives wrapped in an APIError).
_CALL_ERRORS = (podman.errors.APIError, requests.RequestException)

INSTALL_HINT = (
    "install podman (Debian: apt-get install podman runc; set runtime = \"runc\" in "
    "/etc/containers/containers.conf.d/), or choose another runtime with --runtime docker"
)


class _LogFollow(OutputStream):
    """Follows ``/containers/{id}/logs`` from the beginning, demultiplexing both streams."""

    def __init__(self, client: podman.PodmanClient, container_id: str,
                 connect_timeout: float) -> None:
        self._client = client
        self._id = container_id
        self._connect_timeout = connect_timeout
        self._response: Any = None
        self._closed = False

    def __iter__(self) -> Iterator[tuple[Stream, bytes]]:
        response = self._client.api.get(
            f"/containers/{self._id}/logs",
            params={"follow": True, "stdout": True, "stderr": True},
            stream=True,
            # A build may print nothing for hours: no read timeout while following.
            timeout=(self._connect_timeout, None),
        )
        self._response = response
        if self._closed:
            response.close()
            return
        response.raise_for_status()
        try:
            yield from iter_frames(response.iter_content(chunk_size=None))
        except (requests.RequestException, OSError, AttributeError, ValueError):
            if not self._closed:
                raise
        finally:
            response.close()

    def close(self) -> None:
        """Abort a blocked read from another thread.

        Closing the response here could deadlock (the reader thread holds the socket
        file's lock while it waits in recv); shutting the socket down wakes that recv
        instead, and the reader closes the response itself on its way out.
        """
        self._closed = True
        response = self._response
        if response is None:
            return
        connection = getattr(response.raw, "_connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _SocketLogFollow(OutputStream):
    """Follows the logs endpoint straight off the engine's unix socket (one HTTP chunk per
    line would otherwise cost seconds of CPU on a log flood: see ``rawhttp``)."""

    def __init__(self, stream: UnixStream) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[tuple[Stream, bytes]]:
        return iter_frames(self._stream)

    def close(self) -> None:
        self._stream.close()


class PodmanRuntime(ContainerRuntime):
    """Talks to ``podman system service``; starts it on ``url`` when nothing answers there."""

    name = "podman"
    follow_lags = True  # podman's log follower polls; the logs stay until removal
    timeout_errors = TIMEOUT_ERRORS
    unavailable_errors = UNAVAILABLE_ERRORS
    call_errors = _CALL_ERRORS

    def __init__(self, url: str, start_service: bool = True,
                 timeouts: EngineTimeouts | None = None) -> None:
        self.url = url
        self.timeouts = timeouts or EngineTimeouts()
        self._ensure_service(start_service)
        # Every call is bounded by the api timeout unless it passes its own.
        self.client = podman.PodmanClient(base_url=url, timeout=self.timeouts.api)
        #: Each container's k8s-file log (None: use the API), asked once per container.
        self._log_paths: dict[str, str | None] = {}

    # -- engine ------------------------------------------------------------------------

    def _ensure_service(self, start: bool) -> None:
        path = socket_path(self.url)
        if path is None or socket_answers(path):
            return
        binary = shutil.which("podman")
        if binary is None:
            raise EngineUnavailable(f"podman is not installed (no service at {self.url}): "
                                    + INSTALL_HINT)
        if not start:
            raise EngineUnavailable(f"no podman service answers at {self.url}; start it with "
                                    f"'podman system service --time=0 {self.url}'")
        log.info("starting podman API service on %s", self.url)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.Popen(
            [binary, "system", "service", "--time=0", self.url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # The service and its conmons keep this working directory for their lifetime.
            start_new_session=True, cwd="/",
        )
        if not wait_for_socket(path, 15.0):
            raise EngineUnavailable(f"started 'podman system service' but {self.url} does not "
                                    "answer; run it by hand to see why")

    def ping(self) -> None:
        try:
            ok = self.client.ping()
        except _CALL_ERRORS as exc:
            raise EngineUnavailable(f"podman at {self.url} does not answer: {exc}; "
                                    + INSTALL_HINT) from exc
        if not ok:
            raise EngineUnavailable(f"podman at {self.url} does not answer its ping; "
                                    + INSTALL_HINT)

    def version(self) -> str:
        return str(self._engine_call("asking its version", self.client.version)["Version"])

    def storage_path(self) -> Path:
        return self._path_in_info(self.client.info, "store", "graphRoot")

    # -- images ------------------------------------------------------------------------

    def inspect_image(self, ref: str) -> ImageInfo | None:
        with self._engine_errors(f"looking up image {ref!r}"):
            try:
                attrs = self.client.images.get(ref).attrs
            except podman.errors.ImageNotFound:
                return None
        image_id = str(attrs["Id"])
        return ImageInfo(image_id if image_id.startswith("sha256:") else f"sha256:{image_id}",
                         dict(attrs.get("Labels") or {}), int(attrs.get("Size") or 0),
                         from_oci(str(attrs.get("Architecture") or "")))

    def pull(self, ref: str, timeout: float, platform: str | None = None) -> str:
        try:
            # podman-py's pull ignores its timeout argument: a client of its own bounds it.
            with podman.PodmanClient(base_url=self.url, timeout=timeout) as puller:
                if platform:
                    puller.images.pull(ref, platform=platform)
                else:
                    puller.images.pull(ref)
        except _CALL_ERRORS as exc:
            raise ImageUnavailable(ref, f"podman pull failed: {exc}") from exc
        image_id = self.image_id(ref)
        if image_id is None:
            raise ImageUnavailable(ref, "podman pull finished but the image is not there")
        return image_id

    def import_rootfs(self, tarball: Path, ref: str, labels: Mapping[str, str]) -> str:
        with open(tarball, "rb") as body:
            self._request(f"importing {tarball.name} as {ref}", "post", "/images/import",
                          "commit", params={"reference": ref, "changes": label_changes(labels)},
                          data=body, headers={"Content-Type": "application/x-tar"})
        return self._id_after(ref, "import of")

    def load_archive(self, archive: Path, ref: str) -> str:
        # podman-py's load reads the whole archive into memory; this streams it.
        with open(archive, "rb") as body:
            self._request(f"loading {archive.name} as {ref}", "post", "/images/load",
                          "commit", data=body, headers={"Content-Type": "application/x-tar"})
        return self._id_after(ref, "load of")

    def remove_image(self, ref: str, force: bool = True) -> None:
        self._request(f"removing image {ref!r}", "delete",
                      f"/images/{urllib.parse.quote(ref, safe='')}", "commit",
                      params={"force": force}, absent_ok=(404,))

    def tag_image(self, ref: str, new_ref: str) -> None:
        # The endpoint itself, not the SDK's Image.tag: that needs an Image, i.e. an
        # inspect first, a second round trip on every cached task's way to its build.
        repo, tag = split_ref(new_ref)
        self._request(f"tagging {ref} as {new_ref}", "post",
                      f"/images/{urllib.parse.quote(ref, safe='')}/tag",
                      params={"repo": repo, "tag": tag})

    def image_names(self, repository: str) -> list[str]:
        images = self._engine_call(f"listing images of {repository}",
                                   lambda: self.client.images.list(name=repository))
        return sorted(t for image in images for t in image.tags
                      if split_ref(t)[0] == repository)

    # -- containers --------------------------------------------------------------------

    def create(self, spec: ContainerSpec) -> str:
        kwargs: dict[str, Any] = {
            "image": spec.image,
            "command": list(spec.command),
            "environment": dict(spec.environment),
            "labels": spec.all_labels(),
            "mounts": [
                {"type": "bind", "source": str(m.source), "target": m.target,
                 "read_only": not m.writable}
                for m in spec.mounts
            ],
            "network_mode": spec.network_mode if spec.network else "none",
            "cap_drop": ["ALL"],
            "cap_add": list(spec.capabilities),
            "no_new_privileges": True,
            "privileged": False,
        }
        if spec.user:
            kwargs["user"] = spec.user
        if spec.workdir:
            kwargs["working_dir"] = spec.workdir
        if spec.name:
            kwargs["name"] = spec.name
        if spec.limits.memory_bytes:
            kwargs["mem_limit"] = spec.limits.memory_bytes
            # Swap counts against the limit too: otherwise a host with swap lets it slip.
            kwargs["memswap_limit"] = spec.limits.memory_bytes
        if spec.limits.pids:
            kwargs["pids_limit"] = spec.limits.pids
        if spec.limits.cpus:
            kwargs["cpu_period"] = 100_000
            kwargs["cpu_quota"] = int(spec.limits.cpus * 100_000)
        if spec.limits.ulimits:
            kwargs["ulimits"] = with_defaults(spec.limits.ulimits)
        with self._engine_errors(f"creating a container from {spec.image}"):
            try:
                created = self.client.containers.create(**kwargs)
            except podman.errors.APIError as exc:
                # podman 4 answers a missing image with a 500 whose text says so.
                if isinstance(exc, podman.errors.ImageNotFound) or "image not known" in str(exc):
                    raise ImageUnavailable(spec.image, "not present locally") from exc
                raise
        # podman-py inspects what it created: its log path is known without asking again.
        container_id = str(created.id)
        if socket_path(self.url) is not None:
            self._log_paths[container_id] = k8s_log_path(created.attrs)
        return container_id

    def container_state(self, container_id: str) -> Mapping[str, Any]:
        response = self._request(f"inspecting {container_id}", "get",
                                 f"/containers/{container_id}/json")
        return dict(response.json().get("State") or {})

    def _log_stream(self, container_id: str, follow: bool) -> UnixStream | None:
        """The logs endpoint read straight off the unix socket (None for a remote URL)."""
        path = socket_path(self.url)
        if path is None:
            return None
        prefix = str(getattr(self.client.api, "path_prefix", "/v4.0.0/libpod/"))
        return UnixStream(path, f"{prefix}containers/{container_id}/logs?stdout=true"
                                f"&stderr=true&follow={'true' if follow else 'false'}",
                          self.timeouts.api)

    def output(self, container_id: str) -> OutputStream:
        """The output followed in podman's log file when it is a ``k8s-file`` on this host
        (see ``logfile``: podman's own follower can cut a line), else through the API."""
        path = self._log_file(container_id)
        if path is not None:
            return K8sLogFollow(path, lambda: self._exited(container_id),
                                lambda: self._api_output(container_id))
        return self._api_output(container_id)

    def _api_output(self, container_id: str) -> OutputStream:
        stream = self._log_stream(container_id, follow=True)
        if stream is not None:
            return _SocketLogFollow(stream)
        return _LogFollow(self.client, container_id, self.timeouts.api)

    def read_output(self, container_id: str) -> Iterator[tuple[Stream, bytes]]:
        """The whole output: from podman's log file when it is a ``k8s-file`` on this
        host, else, or for what the file could not give, through the API."""
        path = self._log_file(container_id)
        if path is None:
            yield from self._read_output_api(container_id)
            return
        yield from file_then_api(read_k8s_log(path),
                                 lambda: self._read_output_api(container_id),
                                 f"reading the log file of {container_id[:12]}")

    def _log_file(self, container_id: str) -> str | None:
        """The container's k8s-file log when podman is on this host, else None."""
        if socket_path(self.url) is None:
            return None
        if container_id not in self._log_paths:
            response = self._request(f"inspecting {container_id}", "get",
                                     f"/containers/{container_id}/json")
            self._log_paths[container_id] = k8s_log_path(response.json())
        return self._log_paths[container_id]

    def _exited(self, container_id: str) -> bool:
        """True once podman has the container's exit status (conmon wrote it after the
        last of the output); an engine that does not answer says nothing yet."""
        try:
            state = self.container_state(container_id)
        except ContainerError:
            return False
        return str(state.get("Status", "")).lower() in ("exited", "stopped")

    def _read_output_api(self, container_id: str) -> Iterator[tuple[Stream, bytes]]:
        stream = self._log_stream(container_id, follow=False)
        if stream is not None:
            what = f"reading the output of {container_id}"
            try:
                yield from iter_frames(stream)
            except OSError as exc:  # the socket's own: timed out, refused or dropped
                raise self._failed(what, exc) from exc
            except ContainerError as exc:  # the engine's answer was not a success
                raise ContainerError(f"podman: {what} failed: {exc}") from exc
            return
        response = self._request(f"reading the output of {container_id}", "get",
                                 f"/containers/{container_id}/logs",
                                 params={"stdout": True, "stderr": True}, stream=True)
        try:
            yield from iter_frames(response.iter_content(chunk_size=65536))
        finally:
            response.close()

    def start(self, container_id: str) -> None:
        self._request(f"starting {container_id}", "post", f"/containers/{container_id}/start")

    def wait(self, container_id: str, timeout: float | None) -> int:
        what = f"waiting for {container_id}"
        with self._engine_errors(what) as connect_bound:
            try:
                response = self.client.api.post(
                    f"/containers/{container_id}/wait",
                    params={"condition": ["exited", "stopped"], "interval": "10ms"},
                    # Without a build timeout, wait as long as the container runs.
                    timeout=timeout if timeout is not None else (connect_bound, None),
                )
            except _CALL_ERRORS as exc:
                # podman-py wraps the read timeout in an APIError; the cause tells them
                # apart. Without a build timeout, a timeout can only be the engine's (on
                # connecting).
                if timeout is not None and self._timed_out(exc):
                    raise TimeoutError(f"container {container_id} still running after "
                                       f"{timeout}s") from exc
                raise
        return int(_answer(what, response).json())

    def kill(self, container_id: str) -> None:
        # 409: not running any more; 404: gone. Both mean there is nothing left to kill
        # (podman 4.3 answers 500 for a container that exits while it is being killed).
        self._request(f"killing {container_id}", "post", f"/containers/{container_id}/kill",
                      params={"signal": "KILL"}, absent_ok=(404, 409, 500))

    def remove(self, container_id: str) -> None:
        self._log_paths.pop(container_id, None)
        for attempt in range(_REMOVE_ATTEMPTS):
            response = self._request(f"removing {container_id}", "delete",
                                     f"/containers/{container_id}", "commit",
                                     params={"force": True, "timeout": 0},
                                     absent_ok=(404, 409, 500))
            if response.ok or response.status_code == 404:
                return
            # podman 4.3 refuses a forced removal while it is still recording a kill it
            # has just seen ("container state improper: stopped"); it takes it a moment
            # later (seen after an engine freeze).
            if "state improper" not in response.text or attempt == _REMOVE_ATTEMPTS - 1:
                break
            time.sleep(0.5)
        raise ContainerError(f"podman: removing {container_id} failed: {response.text}")

    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        # The label filter must be a list of "k=v" strings: podman-py stringifies a dict of
        # lists, which silently matches nothing.
        filters = [f"label={k}={v}" for k, v in labels.items()]
        found = self._engine_call("listing containers",
                                  lambda: self.client.containers.list(all=True, filters=filters))
        infos = []
        for c in found:
            # The list endpoint gives State as a plain string (inspect gives a dict).
            state = c.attrs.get("State", "")
            names = c.attrs.get("Names") or [c.id[:12]]
            infos.append(ContainerInfo(c.id, names[0], state if isinstance(state, str)
                                       else state.get("Status", ""), dict(c.labels or {})))
        return infos

    def commit(self, container_id: str, ref: str, labels: Mapping[str, str]) -> str:
        repo, tag = split_ref(ref)
        self._request(f"committing {container_id} as {ref}", "post", "/commit", "commit",
                      params={"container": container_id, "repo": repo, "tag": tag,
                              "changes": label_changes(labels), "pause": False})
        return self._id_after(ref, "commit to")

    def close(self) -> None:
        self.client.close()

    def _request(self, what: str, method: str, path: str, bound: Bound = "api", *,
                 absent_ok: tuple[int, ...] = (), **kwargs: Any) -> Any:
        """One raw API call ``what`` bounded by ``bound``; transport and SDK errors become
        the contract's errors, and so does an answer that is not a success unless its
        status is one of ``absent_ok`` (the caller then reads the response itself)."""
        with self._engine_errors(what, bound) as seconds:
            kwargs.setdefault("timeout", seconds)
            response = getattr(self.client.api, method)(path, **kwargs)
        if response.status_code in absent_ok:
            return response
        return _answer(what, response)


def _answer(what: str, response: Any) -> Any:
    """``response`` when it is a success; else the ContainerError naming ``what``."""
    if not response.ok:
        raise ContainerError(f"podman: {what} failed: {response.text.strip()}")
    return response
