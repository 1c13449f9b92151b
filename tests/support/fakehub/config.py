"""Hub settings and the hub's clock.

The option names are those of the real hub's ``hub.conf`` so that a reader who knows koji
recognises them; units are the real ones too (seconds, except ``SessionRenewalTimeout`` in
minutes). Floats are accepted everywhere so tests can use sub-second timers.
"""

import time
from dataclasses import dataclass

#: The hub version the fake impersonates (``getKojiVersion`` and the ``Koji-Version`` header).
HUB_VERSION = "1.35.3"


@dataclass
class HubConfig:
    """Tunable hub behaviour. Defaults are hub.conf's, except ``RunInterval`` (0 here so that
    every ``host.getTasks`` with nothing assigned runs the assignment step)."""

    #: A host without ``host.updateHost`` for this long is marked not ready (seconds).
    ReadyTimeout: float = 180
    #: An ASSIGNED task not opened for this long is freed (seconds).
    AssignTimeout: float = 300
    #: OPEN tasks the scheduler placed on a host silent for this long are freed (seconds).
    HostTimeout: float = 900
    #: A soft refusal stops counting after this long (seconds).
    SoftRefusalTimeout: float = 900
    #: The assignment step runs at most this often, hub-wide (seconds).
    RunInterval: float = 0
    #: Default per-host job limit when the host did not report ``maxjobs``.
    MaxJobs: int = 15
    #: Weight slack for the capacity check of the assignment step.
    CapacityOvercommit: float = 5
    #: Sessions expire this many MINUTES after their start or last renewal (0 = never).
    SessionRenewalTimeout: float = 1440
    #: ``sslLogin`` for an unknown certificate CN creates a NORMAL user (as hub.conf's default).
    LoginCreatesUser: bool = True
    #: Every call gets fault 1014 ServerOffline.
    ServerOffline: bool = False
    #: Every call of a non-admin except login/sslLogin/logout gets fault 1014.
    LockOut: bool = False
    #: The save_failed_tree hub plugin's ``allowed_methods`` (comma list, ``*`` = any):
    #: the methods whose failed tasks may have their buildroot saved.
    SaveFailedTreeAllowedMethods: str = "buildArch"


class Clock:
    """Wall-clock time plus an offset that tests can advance instead of sleeping.

    Every timestamp the hub stores or compares comes from :meth:`now`, so advancing the clock
    makes sessions expire and scheduler timers fire exactly as if that much time had passed.
    """

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        """Current hub time, seconds since the epoch."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move hub time forward by ``seconds`` (must not be negative)."""
        if seconds < 0:
            raise ValueError("the hub clock only moves forward")
        self._offset += seconds
