"""Per-call context handed to every API function as its first argument."""

from dataclasses import dataclass

import koji

from .core import HubCore
from .state import Host, HubDB, Session, User


@dataclass
class CallContext:
    """Who is calling and with which session, for one XML-RPC call (or one multiCall item).

    ``session`` is set only for a valid, unexpired, logged-in session; ``session_row`` is the
    session the request named even when it has expired (``login(renew=True)`` renews it).
    ``exclusive`` is true when the session holds its user's lock itself or, for a subsession,
    through its master. An API function sets ``wrote`` when it changed something the
    dispatcher cannot see by comparing state (it then records the call number).
    """

    core: HubCore
    method: str
    session: Session | None = None
    session_row: Session | None = None
    exclusive: bool = False
    callnum: int | None = None
    client_cn: str | None = None
    wrote: bool = False

    @property
    def db(self) -> HubDB:
        return self.core.db

    def now(self) -> float:
        return self.core.now()

    @property
    def logged_in(self) -> bool:
        return self.session is not None

    @property
    def user(self) -> User | None:
        if self.session is None:
            return None
        return self.db.users[self.session.user_id]

    @property
    def user_id(self) -> int | None:
        return None if self.session is None else self.session.user_id

    def has_perm(self, perm: str) -> bool:
        user = self.user
        return user is not None and perm in user.perms

    def require_login(self) -> Session:
        """The session, else 1004 as the real hub's ``assertLogin``."""
        if self.session is None:
            raise koji.ActionNotAllowed("you must be logged in for this operation")
        return self.session

    def require_perm(self, perm: str) -> None:
        """1004 unless the caller has ``perm`` or ``admin``."""
        if not (self.has_perm(perm) or self.has_perm("admin")):
            who = f"logged in as {self.user.name}" if self.user else "user not logged in"
            raise koji.ActionNotAllowed(f"{perm} permission required ({who})")

    def caller_host(self) -> Host | None:
        """The host the session's user is, if any (no lock check)."""
        if self.session is None:
            return None
        return self.db.host_by_user(self.session.user_id)

    def require_host(self) -> Host:
        """The calling host, checked like the real hub's ``Host().verify()``.

        Not logged in → 1002 ``Not logged-in``; a user that is no host → 1002 ``User N is not a
        host``; no exclusive session (own or the master's) → 1002 ``This method requires an
        exclusive session``.
        """
        if self.session is None:
            raise koji.AuthError("Not logged-in")
        host = self.caller_host()
        if host is None:
            raise koji.AuthError(f"User {self.session.user_id} is not a host")
        if not self.exclusive:
            raise koji.AuthError("This method requires an exclusive session")
        return host
