"""Login, logout, the exclusive lock, subsessions, and small informational calls.

``sslLogin`` is a test hook: the fake serves plain HTTP, so instead of a client certificate
it trusts the ``Koji-Fake-Client-CN`` request header, and only when the hub was started with
``trust_cn_header=True``. The CN names the user (normally a host); an unknown CN creates a
NORMAL user (``LoginCreatesUser``), which then gets 1002 on ``host.*`` calls.
"""

from typing import Any

import koji

from . import sessions
from .config import HUB_VERSION
from .context import CallContext
from .registry import MethodTable
from .rules import find_user, missing
from .state import User
from .views import session_info

api = MethodTable()


@api.method("login")
def login(
    ctx: CallContext,
    /,
    user: str,
    password: str,
    opts: dict[str, Any] | None = None,
    renew: bool = False,
    exclusive: bool = False,
) -> dict[str, object]:
    """Password login → ``{'session-id', 'session-key', 'header-auth': True}``.

    With ``renew`` and the headers of an (expired) session, that session gets a new key.
    """
    if not isinstance(password, str) or not password:
        raise koji.AuthError("invalid username or password")
    if ctx.logged_in:
        raise koji.AuthError("Already logged in")
    found = ctx.db.user_by_name(user) if isinstance(user, str) else None
    if found is None or found.password is None or found.password != password:
        raise koji.AuthError("invalid username or password")
    _check_login_allowed(found)
    return sessions.create_session(ctx, found, koji.AUTHTYPES["NORMAL"], renew, exclusive)


@api.method("sslLogin")
def ssl_login(
    ctx: CallContext,
    /,
    proxyuser: str | None = None,
    proxyauthtype: int | None = None,
    renew: bool = False,
    exclusive: bool | None = None,
) -> dict[str, object]:
    """Certificate login, the CN taken from the trusted test header (see module doc)."""
    if ctx.logged_in:
        raise koji.AuthError("Already logged in")
    cn = ctx.client_cn if ctx.core.trust_cn_header else None
    if not cn:
        raise koji.AuthError("could not verify client: None")
    if proxyuser:
        raise koji.AuthError(f"{cn} is not authorized to login other users")
    found = ctx.db.user_by_name(cn)
    if found is None:
        if not ctx.core.config.LoginCreatesUser:
            raise koji.AuthError(f"Unknown user: {cn}")
        found = User(id=ctx.db.next_id("users"), name=cn, password=None)
        ctx.db.users[found.id] = found
    _check_login_allowed(found)
    return sessions.create_session(ctx, found, koji.AUTHTYPES["SSL"], renew, exclusive)


def _check_login_allowed(user: User) -> None:
    if user.status != koji.USER_STATUS["NORMAL"]:
        raise koji.AuthError(f"logins by {user.name} are not allowed")


@api.method("logout", always_writes=True)
def logout(ctx: CallContext, /, session_id: int | None = None) -> None:
    """Close the caller's session (or, for its owner or an admin, ``session_id``) and the
    session's subsessions."""
    if ctx.session is None:
        raise koji.AuthError("Not logged in")
    if session_id:
        target = ctx.db.sessions.get(session_id)
        if not ctx.has_perm("admin") and (target is None or target.user_id != ctx.user_id):
            raise koji.ActionNotAllowed("only admins or owner may logout other session")
        sessions.close_session(ctx.db, session_id)
    else:
        sessions.close_session(ctx.db, ctx.session.id)


@api.method("logoutChild", always_writes=True)
def logout_child(ctx: CallContext, /, session_id: int) -> None:
    """Close one subsession of the caller's session (silently nothing if it is not one)."""
    sessions.close_child(ctx, session_id)


@api.method("subsession", always_writes=True)
def subsession(ctx: CallContext, /) -> dict[str, object]:
    """A new session of the same user whose master is the caller's (top-level) session."""
    return sessions.create_subsession(ctx)


@api.method("exclusiveSession", always_writes=True)
def exclusive_session(ctx: CallContext, /, force: bool = False) -> None:
    """Take the user's exclusive lock (see :func:`.sessions.make_exclusive`)."""
    sessions.make_exclusive(ctx, bool(force))


@api.method("sharedSession", always_writes=True)
def shared_session(ctx: CallContext, /) -> None:
    """Drop the exclusive lock."""
    if ctx.session is not None:
        ctx.session.exclusive = False


@api.method("echo")
def echo(ctx: CallContext, /, *args: Any) -> list[Any]:
    return list(args)


@api.method("getKojiVersion")
def get_koji_version(ctx: CallContext, /) -> str:
    return HUB_VERSION


@api.method("getAPIVersion")
def get_api_version(ctx: CallContext, /) -> int:
    return int(koji.API_VERSION)


@api.method("getSessionInfo")
def get_session_info(
    ctx: CallContext, /, details: bool = False, user_id: int | None = None
) -> dict[str, Any] | list[dict[str, Any]] | None:
    """The caller's session row (``{authtype, exclusive, start_ts, user_id, ...}``)."""
    if ctx.session is None:
        return None
    if user_id:
        user = find_user(ctx.db, user_id)
        if user is None:
            raise koji.GenericError(f"No such user: {user_id!r}")
        if not ctx.has_perm("admin") and user.id != ctx.user_id:
            raise koji.ActionNotAllowed("only admins or owners may see all active sessions")
        rows = []
        for s in ctx.db.sessions.values():
            if s.user_id == user.id and not s.expired:
                row = session_info(s)
                if details:
                    row.update(hostip="127.0.0.1", id=s.id)
                rows.append(row)
        return rows
    info = session_info(ctx.session)
    if details:
        info.update(hostip="127.0.0.1", id=ctx.session.id)
    return info


def user_info(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "status": user.status,
        "usertype": user.usertype,
        "krb_principals": [],
    }


@api.method("getLoggedInUser")
def get_logged_in_user(ctx: CallContext, /) -> dict[str, Any] | None:
    return None if ctx.user is None else user_info(ctx.user)


@api.method("getUser")
def get_user(
    ctx: CallContext,
    /,
    userInfo: Any = None,
    strict: bool = False,
    krb_princs: bool = True,
    groups: bool = False,
) -> dict[str, Any] | None:
    user = ctx.user if userInfo is None else find_user(ctx.db, userInfo)
    if user is None:
        return missing(strict, f"No such user: {userInfo!r}")
    return user_info(user)


@api.method("getPerms")
def get_perms(ctx: CallContext, /) -> list[str]:
    return sorted(ctx.user.perms) if ctx.user else []


@api.method("hasPerm")
def has_perm(ctx: CallContext, /, perm: str, strict: bool = False) -> bool:
    return ctx.has_perm(perm)


@api.method("getLastEvent", reads_only=True)
def get_last_event(
    ctx: CallContext, /, before: float | None = None, strict: bool = True
) -> dict[str, Any] | None:
    """``{'id', 'ts'}`` of the newest event (before ``before`` if given)."""
    events = [e for e in ctx.db.events if before is None or e.ts < before]
    if not events:
        return missing(strict, "No such event")
    return {"id": events[-1].id, "ts": events[-1].ts}


@api.method("getEvent")
def get_event(ctx: CallContext, /, id: int, strict: bool = True) -> dict[str, Any] | None:
    event = next((e for e in ctx.db.events if e.id == id), None)
    if event is None:
        return missing(strict, f"No such event: {id}")
    return {"id": event.id, "ts": event.ts}
