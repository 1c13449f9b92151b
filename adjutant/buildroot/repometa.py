"""The host's cache of repo metadata: each repo's metadata fetched once, not once per dnf.

Every install container would otherwise have its package manager fetch the repos'
metadata (repomd, primary, filelists, comps) and build its solver cache from them, again
for each layer of each task: three times for one cold buildroot and its near miss, and for
a distribution's repo that is tens of megabytes and seconds of parsing each time.

An entry holds one package manager cache for one set of repos (the install container's
repo file, which names the Koji repo id, and the options that shape the cache's paths).
It is filled once, by a container that runs only ``makecache`` (no package is installed,
so no scriptlet and nothing of a build runs there), under the entry's lock; its readiness
is a stamp the host writes beside it, never a file in it. Install containers get it
mounted read-only and copy it into a cache of their own: one task's scriptlets, run as
root, can never change what the next task's dnf reads.

The host never reads a file of an entry: it only mounts entries and removes them (with
``shutil.rmtree``, which does not follow links). The newest entries by use are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

from adjutant.buildroot.locks import KeyLock

#: Where an entry is mounted in install and makecache containers.
METADATA_DIR = "/var/cache/adjutant-repometa"


class RepoMetadataCache:
    """Entries under ``<cache_dir>/repometa``: ``<key>/`` (what ``makecache`` wrote) and
    ``<key>.ready`` (the host's stamp, touched on every use)."""

    def __init__(self, cache_dir: str | Path) -> None:
        self.root = Path(cache_dir) / "repometa"

    @staticmethod
    def key(repo_file: str, options: str) -> str:
        """The entry of the repos in ``repo_file`` read with package manager ``options``
        (the chosen package manager and its options, which shape the cache's paths)."""
        return hashlib.sha256(f"{repo_file}\0{options}".encode()).hexdigest()[:32]

    def lock(self, key: str) -> KeyLock:
        """Held while an entry is filled: a second task waits, then finds it ready."""
        return KeyLock(self.root / "locks", key)

    def path(self, key: str) -> Path:
        return self.root / key

    def _stamp(self, key: str) -> Path:
        return self.root / f"{key}.ready"

    def ready(self, key: str) -> bool:
        return self._stamp(key).is_file() and self.path(key).is_dir()

    def empty_entry(self, key: str) -> Path:
        """A fresh, empty directory for ``key`` (what a failed fill left is removed)."""
        self.discard(key)
        path = self.path(key)
        path.mkdir(mode=0o755, parents=True)
        return path

    def mark_ready(self, key: str) -> None:
        self._stamp(key).write_text("")

    def touch(self, key: str) -> None:
        """Record a use (the prune keeps the most recently used)."""
        with contextlib.suppress(FileNotFoundError):
            os.utime(self._stamp(key))

    def discard(self, key: str) -> None:
        self._stamp(key).unlink(missing_ok=True)
        shutil.rmtree(self.path(key), ignore_errors=True)

    def entries(self) -> list[str]:
        """The ready entries' keys, most recently used first."""
        if not self.root.is_dir():
            return []
        stamps = []
        for stamp in self.root.glob("*.ready"):
            try:  # another task's prune may remove it meanwhile
                stamps.append((stamp.stat().st_mtime, stamp.name.removesuffix(".ready")))
            except FileNotFoundError:
                continue
        return [key for _, key in sorted(stamps, reverse=True)]

    def prune(self, keep: int) -> list[str]:
        """Remove all but the ``keep`` most recently used entries; their keys.

        An install container that is copying an entry removed under it finds the copy
        failing and lets its package manager read the repos itself (see install.sh)."""
        removed = self.entries()[max(keep, 0):]
        for key in removed:
            self.discard(key)
        return removed
