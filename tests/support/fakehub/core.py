"""The state one fake hub instance shares between its HTTP threads and its test-side API."""

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import Clock, HubConfig
from .state import HubDB

#: A policy: gets the policy data dict, answers ``(allowed, reason)``.
PolicyRule = Callable[[dict[str, Any]], tuple[bool, str]]


class HubCore:
    """Database, settings, clock and the lock that serialises every call.

    Contract: code that reads or changes :attr:`db` holds :attr:`lock` (an ``RLock``). The
    dispatcher may replace :attr:`db` with a snapshot when a call faults, so never keep a
    reference to it (or to objects in it) across calls.
    """

    def __init__(self, topdir: Path, config: HubConfig, trust_cn_header: bool = False) -> None:
        self.topdir = topdir
        self.config = config
        self.clock = Clock()
        self.db = HubDB()
        self.lock = threading.RLock()
        #: XML-RPC calls (and raw uploads) received, by method name, faults included.
        self.calls: Counter[str] = Counter()
        #: Policies by name; a missing policy allows (hub.conf ``MissingPolicyOk``).
        self.policies: dict[str, PolicyRule] = {}
        #: Whether ``sslLogin`` trusts the ``Koji-Fake-Client-CN`` request header.
        self.trust_cn_header = trust_cn_header
        #: Whether a ``reads_only`` method is checked to have changed nothing (it costs two
        #: pickles of the database per call).
        self.check_reads = True

    @property
    def workdir(self) -> Path:
        """``<topdir>/work``: where uploads land and results are read from."""
        return self.topdir / "work"

    def now(self) -> float:
        return self.clock.now()
