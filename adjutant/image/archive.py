"""A root filesystem tarball wrapped as a one-layer ``docker-archive`` for another arch.

An engine's import of a plain tarball stamps the image with the host's arch, and neither
podman's libpod import nor docker 20.10's honours a platform. Loading an archive whose
image config names the arch is what both engines accept (``docker load``, ``podman
load``), so a foreign-arch default image is loaded this way and carries its true
``Architecture``, the field the worker checks before running a task in it.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path

_CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    archive.addfile(info, io.BytesIO(data))


def write_archive(rootfs: Path, dest: Path, ref: str, oci_arch: str,
                  labels: Mapping[str, str]) -> None:
    """Write ``dest``: a docker-archive of one image, tagged ``ref``, whose only layer is
    the ``rootfs`` tarball and whose config says ``linux/oci_arch`` with ``labels``."""
    layer = _sha256(rootfs)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    config = json.dumps({
        "architecture": oci_arch,
        "os": "linux",
        "created": created,
        "config": {"Labels": dict(labels)},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer}"]},
        "history": [{"created": created, "created_by": "adjutant image build-default"}],
    }, sort_keys=True).encode()
    config_name = f"{hashlib.sha256(config).hexdigest()}.json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [ref],
                            "Layers": [f"{layer}/layer.tar"]}]).encode()
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as archive:
        archive.add(rootfs, arcname=f"{layer}/layer.tar", recursive=False)
        _add_bytes(archive, config_name, config)
        _add_bytes(archive, "manifest.json", manifest)
