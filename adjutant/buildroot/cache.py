"""The buildroot cache: prepared buildroots kept as local images, reused by key.

The index (``<cache_dir>/buildroots/index.json``) survives worker restarts; the images
live in the engine, named ``localhost/adjutant-buildroot-cache:<key prefix>`` and labelled
with their key. Every change to the index happens under a file lock; the core's per-key
lock (``adjutant.buildroot.locks``) keeps two tasks from preparing the same buildroot at
once: the second waits and then finds the first one's image. Least recently used entries
are evicted beyond a count or a total size.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from adjutant.container.errors import ContainerError
from adjutant.container.runtime import ContainerRuntime
from adjutant.sbom.inventory import InventoryStore

log = logging.getLogger(__name__)

CACHE_REPO = "localhost/adjutant-buildroot-cache"
KEY_LABEL = "io.koji-adjutant.buildroot-key"


@dataclass
class CacheEntry:
    """One cached buildroot image and what it holds."""

    key: str
    image: str
    image_id: str
    runtime: str
    base_image: str
    base_image_id: str
    repo_id: int | None
    arch: str
    groups: list[str]
    requirements: list[str]
    installed: list[str]
    initial: list[dict[str, Any]] = field(default_factory=list)
    added: list[dict[str, Any]] = field(default_factory=list)
    image_only: list[str] = field(default_factory=list)
    size: int = 0
    created: float = 0.0
    last_used: float = 0.0
    hits: int = 0
    #: The request's family (its key without the requirements; see BuildrootRequest).
    family: str = ""
    #: The cached image this one was installed on top of ("" when on the base image).
    parent_id: str = ""
    #: The bytes this image adds to its parent (or to the base image): its own layers.
    own_size: int = 0

    @property
    def shared_size(self) -> int:
        """The bytes it shares with the image it was built on."""
        return max(self.size - self.own_size, 0)


def _index_key(runtime: str, key: str) -> str:
    """Index entries are per runtime: the same buildroot may be cached in two engines."""
    return f"{runtime}/{key}"


def cache_ref(key: str, image_id: str) -> str:
    """The name a cached buildroot image gets: its key, and its image id so that caches of
    several workers on one engine never take each other's names."""
    return f"{CACHE_REPO}:{key[:20]}-{image_id.removeprefix('sha256:')[:12]}"


class BuildrootCache:
    """The index of cached buildroots of one worker host (all runtimes share it)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextmanager
    def _flock(self, name: str) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / name, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _load(self) -> dict[str, CacheEntry]:
        try:
            raw = json.loads((self.directory / "index.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return {k: CacheEntry(**v) for k, v in raw.items()}

    def _save(self, entries: Mapping[str, CacheEntry]) -> None:
        path = self.directory / "index.json"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({k: asdict(v) for k, v in entries.items()}, indent=1))
        tmp.replace(path)

    def entries(self) -> list[CacheEntry]:
        """All entries, most recently used first."""
        with self._flock("index.lock"):
            return sorted(self._load().values(), key=lambda e: e.last_used, reverse=True)

    def lookup(self, key: str, runtime: ContainerRuntime) -> CacheEntry | None:
        """The entry for ``key`` if its image is still in ``runtime``; marks it used."""
        with self._flock("index.lock"):
            entries = self._load()
            entry = entries.get(_index_key(runtime.name, key))
            if entry is None:
                return None
            if runtime.image_id(entry.image) != entry.image_id:
                log.info("cached buildroot %s lost its image; forgetting it", key[:12])
                del entries[_index_key(runtime.name, key)]
                self._save(entries)
                return None
            entry.last_used = time.time()
            entry.hits += 1
            self._save(entries)
            return entry

    def closest(self, family: str, requirements: Sequence[str],
                runtime: ContainerRuntime) -> CacheEntry | None:
        """The entry of ``family`` in ``runtime`` holding the most of ``requirements`` and
        nothing else beyond its groups (a near miss to install the rest on), or None.
        Marks it used."""
        wanted = set(requirements)
        with self._flock("index.lock"):
            entries = self._load()
            candidates = sorted(
                (e for e in entries.values() if e.runtime == runtime.name and e.family
                 and e.family == family and set(e.requirements) <= wanted),
                key=lambda e: (len(set(e.requirements)), e.last_used), reverse=True)
            found = None
            lost = []
            for entry in candidates:
                if runtime.image_id(entry.image) == entry.image_id:
                    found = entry
                    break
                lost.append(entry)
            for entry in lost:
                del entries[_index_key(entry.runtime, entry.key)]
            if found is not None:
                found.last_used = time.time()
            if found is not None or lost:  # the index is rewritten only when it changed
                self._save(entries)
            return found

    def store(self, entry: CacheEntry) -> None:
        with self._flock("index.lock"):
            entries = self._load()
            entries[_index_key(entry.runtime, entry.key)] = entry
            self._save(entries)

    def prune(self, runtime: ContainerRuntime, max_images: int | None = None,
              max_bytes: int | None = None) -> list[CacheEntry]:
        """Evict least recently used entries of ``runtime`` beyond the limits.

        An image a running container still uses is kept (and stays in the index).
        """
        removed: list[CacheEntry] = []
        # The SBOM inventories (adjutant.worker.inventory) of evicted images go with them.
        inventories = InventoryStore(self.directory.parent / "inventories")
        with self._flock("index.lock"):
            entries = self._load()
            mine = sorted((e for e in entries.values() if e.runtime == runtime.name),
                          key=lambda e: e.last_used)
            # Layers shared with a parent are counted once, with the parent.
            total = sum(e.own_size or e.size for e in mine)
            # A layer a kept image was built on cannot go before that image: its eviction
            # fails, and is tried again in the next pass once its children are gone.
            pending = list(mine)
            progress = True
            while progress:
                progress = False
                for entry in list(pending):
                    over_count = max_images is not None \
                        and len(mine) - len(removed) > max_images
                    over_size = max_bytes is not None and total > max_bytes
                    if not (over_count or over_size):
                        break
                    try:
                        runtime.remove_image(entry.image, force=False)
                    except ContainerError as exc:
                        log.info("keeping cached buildroot %s: %s", entry.image, exc)
                        continue
                    pending.remove(entry)
                    del entries[_index_key(entry.runtime, entry.key)]
                    inventories.remove(entry.image_id)
                    total -= entry.own_size or entry.size
                    removed.append(entry)
                    progress = True
            self._save(entries)
        return removed
