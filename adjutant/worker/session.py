"""The hub session: kojid's login sequence over koji's own ClientSession."""

from __future__ import annotations

import functools
import logging
import socket
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import koji

if TYPE_CHECKING:
    from adjutant.settings import WorkerSettings

log = logging.getLogger(__name__)


class LoginError(Exception):
    """Logging into the hub failed; the message says with which method and why."""


def session_options(settings: WorkerSettings) -> dict[str, Any]:
    """The ClientSession options kojid passes, from the ``[kojid]`` settings."""
    keys = ("user", "password", "krb_principal", "keytab", "ccache", "cert", "serverca",
            "no_ssl_verify", "retry_interval", "max_retries", "offline_retry",
            "offline_retry_interval", "timeout", "use_fast_upload")
    opts = {k: getattr(settings, k) for k in keys if getattr(settings, k) is not None}
    opts["debug_xmlrpc"] = False
    return opts


def login_method(settings: WorkerSettings) -> str:
    """How :func:`login` will authenticate: ``certificate``, ``password`` or ``GSSAPI``."""
    if settings.cert:
        return "certificate"
    return "password" if settings.user else "GSSAPI"


def login(settings: WorkerSettings, overrides: Mapping[str, Any] | None = None) \
        -> koji.ClientSession:
    """Log in as the build host, as kojid does, without taking the exclusive lock.

    Certificate if ``cert`` is set, else password if ``user`` is set, else GSSAPI.
    ``overrides`` replace ClientSession options (e.g. fewer retries). Raises LoginError.
    """
    session = koji.ClientSession(settings.server, {**session_options(settings),
                                                   **(overrides or {})})
    try:
        method = login_method(settings)
        if method == "certificate":
            session.ssl_login(settings.cert, None, settings.serverca)
        elif method == "password":
            session.login()
        else:
            principal = settings.krb_principal or \
                settings.host_principal_format % socket.getfqdn()
            session.gssapi_login(principal=principal, keytab=settings.keytab,
                                 ccache=settings.ccache)
    except (koji.AuthError, koji.GenericError, OSError) as exc:
        raise LoginError(f"cannot log into {settings.server}: {exc}") from exc
    if not session.logged_in:
        raise LoginError(f"cannot log into {settings.server}: no credentials configured "
                         "(set cert, or user and password, in [kojid])")
    return session


def connect(settings: WorkerSettings, force_lock: bool,
            overrides: Mapping[str, Any] | None = None) -> koji.ClientSession:
    """Log in as the build host (:func:`login`) and take the exclusive lock, as kojid does.

    ``echo("OK")`` must answer ``["OK"]`` afterwards.
    """
    session = login(settings, overrides)
    try:
        session.exclusiveSession(force=force_lock)
    except koji.AuthLockError as exc:
        raise LoginError(f"another session of this host holds the lock ({exc}); is another "
                         "worker running? Use --force-lock to take it over") from exc
    if session.echo("OK") != ["OK"]:
        raise LoginError(f"{settings.server} did not echo: it may not be a Koji hub")
    return session


def serialize_calls(session: koji.ClientSession) -> koji.ClientSession:
    """Make ``session`` safe to share between threads (a log uploader and the handler).

    Calls are serialized under one lock: the hub requires strictly increasing call numbers,
    so two calls racing on one session could reach it out of order.
    """
    lock = threading.RLock()
    call = session._callMethod

    @functools.wraps(call)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return call(*args, **kwargs)

    session._callMethod = locked
    return session
