"""Session validation and the session operations behind login, logout and the lock.

Mirrors the real hub's ``auth.Session``: the checks run, in this order, before any method:
unknown id/key or closed session → 1002; expired (``SessionRenewalTimeout`` after start or last
renewal, master and its subsessions together) → 1007 except for login/sslLogin; call number
lower than the recorded one → 1008, equal → 1009 unless the method is idempotent; another open
session of the same user holds the exclusive lock → 1006 except for exclusiveSession, login and
logout. The recorded call number is only updated by the dispatcher after a successful call
that changed something.
"""

import secrets
import string
from dataclasses import dataclass

import koji

from .context import CallContext
from .core import HubCore
from .state import HubDB, Session, User

#: Methods an expired session may still call (they renew it).
AUTH_METHODS = frozenset({"login", "sslLogin"})
#: Methods a session may call while another session of its user holds the lock.
LOCK_EXEMPT = frozenset({"exclusiveSession", "login", "logout"})
#: Methods that run again instead of answering 1009 when their call number repeats.
RETRY_WHITELIST = frozenset(
    {
        "host.taskWait",
        "host.taskUnwait",
        "host.taskSetWait",
        "host.updateHost",
        "host.setBuildRootState",
        "repoExpire",
        "repoDelete",
        "repoProblem",
    }
)


@dataclass(frozen=True)
class Credentials:
    """What a request carried to identify its session (headers, or the legacy query string)."""

    session_id: str | None = None
    session_key: str | None = None
    callnum: str | None = None
    client_cn: str | None = None


def open_call(core: HubCore, method: str, creds: Credentials) -> CallContext:
    """Validate the request's session for ``method`` and build the call's context.

    Raises the faults listed in the module docstring. Marks sessions expired as a side
    effect (that sticks even if the call later faults, as on the real hub).
    """
    ctx = CallContext(core=core, method=method, client_cn=creds.client_cn)
    if creds.session_id is None:
        return ctx
    db, now = core.db, core.now()
    try:
        session_id = int(creds.session_id)
    except ValueError:
        raise koji.AuthError("Invalid session or bad credentials") from None
    session = db.sessions.get(session_id)
    if session is None or session.closed or session.key != creds.session_key:
        raise koji.AuthError("Invalid session or bad credentials")

    timeout = core.config.SessionRenewalTimeout
    if not session.expired and timeout:
        start = session.renew_ts if session.renew_ts is not None else session.start_ts
        if now > start + timeout * 60:
            for other in db.sessions.values():
                if other.id == session.id or other.master == session.id:
                    other.expired = True
    if session.expired and method not in AUTH_METHODS:
        raise koji.AuthExpired(f'session "{session.id}" has expired')

    callnum: int | None = None
    if creds.callnum is not None:
        try:
            callnum = int(creds.callnum)
        except ValueError:
            raise koji.AuthError(f"Invalid callnum: {creds.callnum!r}") from None
        last = session.callnum
        if last is not None:
            if last > callnum:
                raise koji.SequenceError(f"{last} > {callnum} (session {session.id})")
            if last == callnum and method not in RETRY_WHITELIST:
                raise koji.RetryError(
                    f"unable to retry call {callnum} (method {method}) for session {session.id}"
                )

    ctx.session_row = session
    if session.expired:
        # an expired session may only log in again; it records no call number
        return ctx
    user = db.users[session.user_id]
    if user.status != koji.USER_STATUS["NORMAL"]:
        raise koji.AuthError(f"logins by {user.name} are not allowed")
    exclusive = session.exclusive
    lock_error = False
    if not exclusive:
        holder = lock_holder(db, session.user_id)
        if holder is not None:
            if holder.id == session.master:
                exclusive = True
            else:
                lock_error = True
    session.update_ts = now
    if lock_error and method not in LOCK_EXEMPT:
        raise koji.AuthLockError("User locked by another session")
    ctx.session = session
    ctx.exclusive = exclusive
    ctx.callnum = callnum
    return ctx


def lock_holder(db: HubDB, user_id: int) -> Session | None:
    """The open session of ``user_id`` holding the exclusive lock (expired ones count)."""
    return next(
        (
            s
            for s in db.sessions.values()
            if s.user_id == user_id and s.exclusive and not s.closed
        ),
        None,
    )


def _new_key(user_id: int) -> str:
    alnum = string.ascii_letters + string.digits
    return f"{user_id}-{''.join(secrets.choice(alnum) for _ in range(19))}"


def sinfo(session: Session) -> dict[str, object]:
    """What login/subsession return: ``{'session-id', 'session-key', 'header-auth': True}``."""
    return {"session-id": session.id, "session-key": session.key, "header-auth": True}


def create_session(
    ctx: CallContext, user: User, authtype: int, renew: bool, exclusive: bool | None
) -> dict[str, object]:
    """Log ``user`` in: a new session, or with ``renew`` a new key for the named session.

    Renewal keeps the session id, its exclusivity and its recorded call number (so a client
    that restarts counting at 0 afterwards gets 1008, as on the real hub).
    """
    db, now = ctx.db, ctx.now()
    if renew and ctx.session_row is not None:
        session = ctx.session_row
        session.key = _new_key(user.id)
        session.expired = False
        session.renew_ts = now
        session.update_ts = now
    else:
        session = Session(
            id=db.next_id("sessions"),
            key=_new_key(user.id),
            user_id=user.id,
            authtype=authtype,
            start_ts=now,
            update_ts=now,
        )
        db.sessions[session.id] = session
    if exclusive and not session.exclusive:
        # the real hub makes a login-time lock without looking for a holder
        session.exclusive = True
    return sinfo(session)


def make_exclusive(ctx: CallContext, force: bool) -> None:
    """``exclusiveSession``: take the user's lock, closing the holder if ``force``.

    Subsession or already exclusive → 1000; held by another open session → 1006 unless
    ``force`` (the holder is closed, its subsessions keep running but lose the lock).
    """
    session = ctx.session
    if session is None:
        # the real hub quietly does nothing for an anonymous caller
        return
    if session.master is not None:
        raise koji.GenericError("subsessions cannot become exclusive")
    if session.exclusive:
        raise koji.GenericError("session is already exclusive")
    holder = lock_holder(ctx.db, session.user_id)
    if holder is not None:
        if not force:
            raise koji.AuthLockError("Cannot get exclusive session")
        holder.expired = True
        holder.exclusive = False
        holder.closed = True
    session.exclusive = True


def close_session(db: HubDB, session_id: int) -> None:
    """Close a session and its subsessions."""
    for other in db.sessions.values():
        if other.id == session_id or other.master == session_id:
            other.expired = True
            other.exclusive = False
            other.closed = True


def create_subsession(ctx: CallContext) -> dict[str, object]:
    """A new session of the caller's user whose master is the caller's top-level session."""
    session = ctx.session
    if session is None:
        raise koji.AuthError("Not logged in")
    now = ctx.now()
    child = Session(
        id=ctx.db.next_id("sessions"),
        key=_new_key(session.user_id),
        user_id=session.user_id,
        authtype=session.authtype,
        start_ts=now,
        update_ts=now,
        master=session.master if session.master is not None else session.id,
    )
    ctx.db.sessions[child.id] = child
    return sinfo(child)


def close_child(ctx: CallContext, session_id: int) -> None:
    """Close one subsession of the caller's session; silently nothing if it is not one."""
    if ctx.session is None:
        raise koji.AuthError("Not logged in")
    child = ctx.db.sessions.get(session_id)
    if child is not None and child.master == ctx.session.id:
        child.expired = True
        child.exclusive = False
        child.closed = True
