"""The policy cache: one file per tag, shared by every task process of the worker.

Task handlers run in forked processes, so the cache lives on disk and a per-tag lock
makes sure that when an entry expires one process asks the hub while the others wait and
then use its answer. When the hub cannot be asked, the last good policy is used and the
answer says so.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from adjutant.policy.errors import PolicyUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedPolicy:
    """A tag's policy value (None when the tag has none) and how fresh it is."""

    value: Any
    fetched_at: float
    from_cache: bool
    stale_because: str | None = None


class PolicyCache:
    """``get(tag, fetch)``: the cached value while younger than ``ttl`` seconds, else
    ``fetch()``'s."""

    def __init__(self, directory: Path, ttl: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.ttl = ttl
        self.clock = clock

    def _paths(self, tag: str) -> tuple[Path, Path]:
        name = quote(tag, safe="")
        return self.directory / f"{name}.json", self.directory / f"{name}.lock"

    @contextmanager
    def _locked(self, lock_path: Path) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def get(self, tag: str, fetch: Callable[[], Any]) -> CachedPolicy:
        data_path, lock_path = self._paths(tag)
        with self._locked(lock_path):
            entry = self._read(data_path)
            now = self.clock()
            if entry is not None and now - entry["fetched_at"] < self.ttl:
                return CachedPolicy(entry["value"], entry["fetched_at"], from_cache=True)
            try:
                value = fetch()
            except Exception as exc:
                if entry is None:
                    raise PolicyUnavailable(f"cannot read the image policy of tag {tag} from "
                                            f"the hub ({exc}) and none is cached") from exc
                age = int(now - entry["fetched_at"])
                reason = f"hub error while refreshing ({exc}); using the policy cached {age}s ago"
                log.warning("tag %s: %s", tag, reason)
                return CachedPolicy(entry["value"], entry["fetched_at"], True, reason)
            self._write(data_path, {"tag": tag, "fetched_at": now, "value": value})
            return CachedPolicy(value, now, from_cache=False)

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            entry = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return entry if isinstance(entry, dict) and "fetched_at" in entry else None

    @staticmethod
    def _write(path: Path, entry: dict[str, Any]) -> None:
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(entry))
        tmp.replace(path)
