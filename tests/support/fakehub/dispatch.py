"""From a decoded request to an encoded ``methodResponse``: session checks, transactions,
call numbers, faults and ``multiCall``.

One call is one transaction: the database is snapshotted before the method runs and put back
if it raises (or its result cannot be encoded). A successful call records the request's call
number on its session when it changed something (state differs, the method always writes,
or it said so via ``ctx.wrote``) - the real hub commits the number only with other changes.
All of it runs under the hub lock, so calls are serialised.
"""

import copy
import pickle
import sys
import traceback
from typing import Any

import koji
from koji.xmlrpcplus import Fault, dumps

from . import (
    api_build_tasks,
    api_buildroots,
    api_builds,
    api_distrepo,
    api_files,
    api_host,
    api_plugins,
    api_repos,
    api_session,
    api_tags,
    api_tasks,
)
from .context import CallContext
from .core import HubCore
from .registry import ApiMethod, MethodTable, Registry
from .sessions import Credentials, open_call
from .state import HubDB


class Snapshot:
    """The database as it was before a call, kept pickled: a pickle round trip costs a
    fraction of a deep copy, and most calls never need the copy back. A test run makes
    thousands of calls over a database that grows with every task, so this is what keeps
    the hub from eating the cores the builds under test need."""

    def __init__(self, db: HubDB) -> None:
        self._pickled = pickle.dumps(db, pickle.HIGHEST_PROTOCOL)

    def restore(self) -> HubDB:
        """A fresh copy of the database as it was."""
        db: HubDB = pickle.loads(self._pickled)
        return db

    def differs(self, db: HubDB) -> bool:
        """Whether ``db`` now holds other values than the snapshot. Equal pickles mean equal
        values; unequal ones are compared value by value (equal sets may pickle in another
        order)."""
        return pickle.dumps(db, pickle.HIGHEST_PROTOCOL) != self._pickled \
            and db != self.restore()


def _read_wrote(method: str) -> AssertionError:
    return AssertionError(f"fake hub bug: {method} is marked reads_only but changed the "
                          "database")


#: Methods the lock-out setting still admits for non-admins.
_LOCKOUT_EXEMPT = frozenset({"login", "sslLogin", "logout"})


def to_fault(exc: BaseException) -> Fault:
    """The fault the real hub sends for an exception: koji errors keep their code and
    message, anything else is code 1 with ``"<class>: <message>"``."""
    if isinstance(exc, Fault):
        return exc
    if isinstance(exc, koji.GenericError):
        return Fault(exc.faultCode, str(exc))
    return Fault(1, f"{type(exc)}: {exc}")


class Dispatcher:
    """Runs XML-RPC calls and raw uploads against one :class:`HubCore`."""

    def __init__(self, core: HubCore) -> None:
        self.core = core
        multicall = MethodTable()
        multicall.method("multiCall")(self._multi_call)
        multicall.method("system.multicall")(self._multi_call)
        self.registry = Registry(
            [
                api_session.api,
                api_tasks.api,
                api_host.api,
                api_files.api,
                api_buildroots.api,
                api_repos.api,
                api_tags.api,
                api_builds.api,
                api_build_tasks.api,
                api_plugins.api,
                api_distrepo.api,
                multicall,
            ]
        )

    # -- entry points ------------------------------------------------------------------

    def call(self, method: str | None, params: tuple[Any, ...], creds: Credentials) -> str:
        """Run one XML-RPC call → the ``methodResponse`` document (result or fault)."""
        core = self.core
        with core.lock:
            core.calls[str(method)] += 1
            try:
                self._check_offline()
                entry = self.registry.get(method)
                assert method is not None
                ctx = open_call(core, method, creds)
                self._check_lockout(ctx)
                return self._transaction(ctx, lambda: entry.invoke(ctx, params), entry)
            except Exception as exc:
                return dumps(to_fault(exc), methodresponse=1, allow_none=1)

    def upload(self, query: dict[str, list[str]], body: bytes, creds: Credentials) -> str:
        """Run one raw upload (POST octet-stream) → the ``methodResponse`` document."""
        core = self.core
        with core.lock:
            core.calls["rawUpload"] += 1
            try:
                self._check_offline()
                ctx = open_call(core, "rawUpload", creds)
                self._check_lockout(ctx)
                return self._transaction(ctx, lambda: api_files.raw_upload(ctx, query, body))
            except Exception as exc:
                return dumps(to_fault(exc), methodresponse=1, allow_none=1)

    # -- internals ---------------------------------------------------------------------

    def _check_offline(self) -> None:
        if self.core.config.ServerOffline:
            raise koji.ServerOffline("server is offline")

    def _check_lockout(self, ctx: CallContext) -> None:
        if (self.core.config.LockOut and ctx.method not in _LOCKOUT_EXEMPT
                and not ctx.has_perm("admin")):
            raise koji.ServerOffline("Server disabled for maintenance")

    def _transaction(self, ctx: CallContext, run: Any, entry: ApiMethod | None = None) -> str:
        core = self.core
        if entry is not None and entry.reads_only and not core.check_reads:
            return dumps((run(),), methodresponse=1, allow_none=1)
        snapshot = Snapshot(core.db)
        try:
            result = run()
            response = dumps((result,), methodresponse=1, allow_none=1)
        except BaseException:
            core.db = snapshot.restore()
            raise
        changed = (ctx.wrote or (entry is not None and entry.always_writes)
                   or snapshot.differs(core.db))
        if changed and entry is not None and entry.reads_only:
            core.db = snapshot.restore()
            raise _read_wrote(entry.name)
        session = ctx.session
        if changed and session is not None and ctx.callnum is not None:
            session.callnum = ctx.callnum
        return response

    def _multi_call(self, ctx: CallContext, /, calls: list[dict[str, Any]]) -> list[Any]:
        """``multiCall``: each item in its own savepoint → ``[result]`` or ``{'faultCode',
        'faultString'[, 'traceback']}`` per item. Uploads cannot be part of it."""
        core = self.core
        results: list[Any] = []
        for item in calls:
            name = item["methodName"]
            params = item["params"]
            core.calls[str(name)] += 1
            snapshot = Snapshot(core.db) if core.check_reads else None
            sub = copy.copy(ctx)
            sub.method = name
            sub.wrote = False
            try:
                entry = self.registry.get(name)
                if snapshot is None and not entry.reads_only:
                    snapshot = Snapshot(core.db)
                result = entry.invoke(sub, params)
                dumps((result,), methodresponse=1, allow_none=1)
                if entry.reads_only and snapshot is not None and snapshot.differs(core.db):
                    raise _read_wrote(name)
            except Fault as fault:
                if snapshot is not None:
                    core.db = snapshot.restore()
                results.append({"faultCode": fault.faultCode, "faultString": fault.faultString})
            except Exception as exc:
                if snapshot is not None:
                    core.db = snapshot.restore()
                results.append({
                    "faultCode": getattr(exc, "faultCode", 1),
                    "faultString": ", ".join(str(a) for a in exc.args),
                    "traceback": traceback.format_exception(*sys.exc_info()),
                })
            else:
                results.append([result])
                if sub.wrote or entry.always_writes:
                    ctx.wrote = True
            if snapshot is None:
                continue  # a read: nothing was restored, the session objects are live
            # after a rollback the session objects live in the restored database
            self._rebind(ctx)
        return results

    def _rebind(self, ctx: CallContext) -> None:
        """Point the context's session at the live database's copy of it."""
        if ctx.session is not None:
            ctx.session = self.core.db.sessions[ctx.session.id]
        if ctx.session_row is not None:
            ctx.session_row = self.core.db.sessions[ctx.session_row.id]
