"""Helpers shared by the fake hub tests (fault assertions, raw XML-RPC, responses)."""

import contextlib
from collections.abc import Iterator
from typing import Any

import koji
import pytest
import requests
from koji.xmlrpcplus import Fault, dumps, loads


@contextlib.contextmanager
def raises_fault(code: int) -> Iterator[pytest.ExceptionInfo[BaseException]]:
    """Expect a hub fault with ``code`` (koji maps codes ≥ 1000 to its exception classes;
    code 1 stays a plain ``Fault``)."""
    with pytest.raises((koji.GenericError, Fault)) as info:
        yield info
    got = info.value.faultCode
    assert got == code, f"expected fault {code}, got {got}: {info.value}"


def result_xml(value: Any) -> str:
    """A closeTask response as TaskManager.runTask builds it."""
    return dumps((value,), methodresponse=1, allow_none=1)


def fault_xml(code: int, message: str) -> str:
    """A failTask response as TaskManager.runTask builds it."""
    return dumps(Fault(code, message), methodresponse=1, allow_none=1)


def raw_call(url: str, method: str, *params: Any, headers: dict[str, str] | None = None
             ) -> Any:
    """POST one XML-RPC call without ClientSession (for violations the client library would
    not send); returns the decoded result or raises the fault as koji's exception class."""
    body = dumps(params, methodname=method, allow_none=1).encode()
    all_headers = {"Content-Type": "text/xml"}
    all_headers.update(headers or {})
    reply = requests.post(url, data=body, headers=all_headers, timeout=10)
    reply.raise_for_status()
    try:
        result, _ = loads(reply.content)
    except Fault as fault:
        raise koji.convertFault(fault) from None
    return result[0]


def session_headers(session: koji.ClientSession, callnum: int | None) -> dict[str, str]:
    """The session headers of ``session`` with a chosen call number (None: no header)."""
    headers = {
        "Koji-Session-Id": str(session.sinfo["session-id"]),
        "Koji-Session-Key": str(session.sinfo["session-key"]),
    }
    if callnum is not None:
        headers["Koji-Session-Callnum"] = str(callnum)
    return headers
