"""HTTP and XML-RPC transport rules (protocol §1.1-1.3, §1.6, §11 "Transport")."""

import socket
import subprocess
import sys
from pathlib import Path

import koji
import pytest
import requests
from conftest import Builder
from fakehub_helpers import raises_fault, raw_call
from koji.xmlrpcplus import dumps, loads

from tests.support.fakehub import HUB_VERSION, FakeHub
from tests.support.fakehub.server import HubRequestHandler


def test_get_on_the_hub_url_is_405_with_allow_post(hub: FakeHub) -> None:
    reply = requests.get(hub.url, timeout=5)
    assert reply.status_code == 405
    assert reply.headers["Allow"] == "POST"


@pytest.mark.parametrize("verb", ["PUT", "DELETE"])
def test_other_verbs_on_the_hub_url_are_405(hub: FakeHub, verb: str) -> None:
    assert requests.request(verb, hub.url, timeout=5).status_code == 405


def test_empty_body_is_400(hub: FakeHub) -> None:
    reply = requests.post(hub.url, data=b"", headers={"Content-Type": "text/xml"}, timeout=5)
    assert reply.status_code == 400


def test_unparsable_body_is_400(hub: FakeHub) -> None:
    reply = requests.post(hub.url, data=b"<methodCall><oops", timeout=5,
                          headers={"Content-Type": "text/xml"})
    assert reply.status_code == 400


def test_a_call_is_200_with_a_method_response_and_the_version_header(hub: FakeHub) -> None:
    body = dumps(("OK",), methodname="echo").encode()
    reply = requests.post(hub.url, data=body, headers={"Content-Type": "text/xml"}, timeout=5)
    assert reply.status_code == 200
    assert reply.headers["Koji-Version"] == HUB_VERSION
    assert loads(reply.content)[0] == (["OK"],)


def test_a_fault_is_still_http_200(hub: FakeHub) -> None:
    body = dumps((), methodname="noSuchMethod").encode()
    reply = requests.post(hub.url, data=body, headers={"Content-Type": "text/xml"}, timeout=5)
    assert reply.status_code == 200
    assert b"<fault>" in reply.content


def test_unknown_method_is_1000_invalid_method(hub: FakeHub) -> None:
    session = hub.client()
    with raises_fault(1000) as info:
        session.noSuchMethod()
    assert "Invalid method: noSuchMethod" in str(info.value)


def test_client_reads_hub_version_from_header_and_call(hub: FakeHub) -> None:
    session = hub.client()
    assert session.getKojiVersion() == HUB_VERSION
    assert session.hub_version_str == HUB_VERSION


def test_trailing_starstar_struct_is_keyword_arguments(hub: FakeHub) -> None:
    task_id = hub.make_task("sleep", [5])
    # ClientSession sends request=True as {'request': True, '__starstar': True}
    info = hub.client().getTaskInfo(task_id, request=True)
    assert info["request"] == [5]


def test_unknown_keyword_is_1019(hub: FakeHub) -> None:
    with raises_fault(1019):
        hub.client().getTaskInfo(1, bogus=True)


def test_too_many_positional_arguments_is_1019(hub: FakeHub) -> None:
    with raises_fault(1019):
        hub.client().getKojiVersion(1, 2, 3)


def test_missing_argument_is_1019(hub: FakeHub) -> None:
    with raises_fault(1019):
        hub.client().getTaskInfo()


def test_nil_and_i8_travel_both_ways(hub: FakeHub) -> None:
    big = 5 * 2**31
    assert hub.client().echo(None, big, [None, -big]) == [None, big, [None, -big]]


def test_i8_in_a_raw_request_is_accepted(hub: FakeHub) -> None:
    assert raw_call(hub.url, "echo", 2**40) == [2**40]


def test_multicall_runs_items_in_savepoints_and_counts_each_method(hub: FakeHub) -> None:
    session = hub.client()
    with session.multicall() as mc:
        ok = mc.echo(1)
        bad = mc.noSuchMethod()
        version = mc.getKojiVersion()
    assert ok.result == [1]
    assert version.result == HUB_VERSION
    with raises_fault(1000):
        _ = bad.result
    assert hub.calls["multiCall"] == 1
    assert hub.calls["echo"] == 1
    assert hub.calls["getKojiVersion"] == 1
    assert hub.calls["noSuchMethod"] == 1


def test_multicall_failed_item_rolls_back_alone(hub: FakeHub, builder: Builder) -> None:
    task_id = hub.make_task("sleep", [1])
    mc = builder.session.multicall()
    opened = mc.host.openTask(task_id)
    weighted = mc.host.setTaskWeight(task_id, 3.0)
    failed = mc.host.closeTask(task_id + 100, "x")  # no such task
    mc.call_all()
    assert opened.result["id"] == task_id
    assert weighted.result is None
    with raises_fault(1000):
        _ = failed.result
    assert hub.task(task_id)["state_name"] == "OPEN"
    assert hub.task(task_id)["weight"] == 3.0


def test_uploads_cannot_be_in_a_multicall(hub: FakeHub) -> None:
    session = hub.client()  # keep a reference: multicall() holds only a weakref to it
    mc = session.multicall()
    upload = mc.rawUpload("chunk", 0, "cli-build/x", "f.txt")
    mc.call_all()
    with raises_fault(1000) as info:
        _ = upload.result
    assert "Invalid method: rawUpload" in str(info.value)


def test_server_offline_is_1014(tmp_path: Path) -> None:
    with FakeHub(tmp_path, ServerOffline=True) as offline, raises_fault(1014):
        offline.client().echo("x")


def test_lockout_is_1014_for_non_admins_but_not_for_admins(hub: FakeHub) -> None:
    hub.add_user("alice", "pw")
    hub.add_admin("root", "pw")
    alice = hub.client("alice", "pw")
    root = hub.client("root", "pw")
    hub.config.LockOut = True
    with raises_fault(1014):
        alice.echo(1)
    assert root.echo(1) == [1]


def test_topurl_serves_topdir_read_only(hub: FakeHub) -> None:
    (hub.topdir / "work" / "hello.txt").write_text("hi")
    reply = requests.get(f"{hub.topurl}/work/hello.txt", timeout=5)
    assert reply.status_code == 200
    assert reply.text == "hi"
    assert requests.head(f"{hub.topurl}/work/hello.txt", timeout=5).status_code == 200
    assert requests.get(f"{hub.topurl}/work/missing", timeout=5).status_code == 404
    assert requests.post(f"{hub.topurl}/work/hello.txt", data=b"x", timeout=5).status_code == 405
    assert requests.put(f"{hub.topurl}/work/hello.txt", data=b"x", timeout=5).status_code == 405


def test_topurl_never_leaves_topdir(hub: FakeHub, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("no")
    reply = requests.get(f"{hub.topurl}/%2e%2e/secret", timeout=5)
    assert reply.status_code in (403, 404)
    (hub.topdir / "work" / "escape").symlink_to(tmp_path / "secret")
    assert requests.get(f"{hub.topurl}/work/escape", timeout=5).status_code == 403


def test_koji_downloadfile_reads_through_topurl(hub: FakeHub, tmp_path: Path) -> None:
    (hub.topdir / "work" / "x.src.rpm").write_bytes(b"\x00" * 10)
    dest = tmp_path / "dl"
    koji.downloadFile(f"{hub.topurl}/work/x.src.rpm", path=str(dest))
    assert dest.read_bytes() == b"\x00" * 10


def test_unknown_constructor_option_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        FakeHub(tmp_path, NoSuchTimer=1)


def test_standalone_module_prints_urls_and_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fakehub", "--topdir", str(tmp_path),
         "--host", "b1:pw"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        server = proc.stdout.readline().split(" = ")[1].strip()
        topurl = proc.stdout.readline().split(" = ")[1].strip()
        assert server.endswith("/kojihub") and topurl.endswith("/kojifiles")
        session = koji.ClientSession(server, {"user": "b1", "password": "pw"})
        session.login()
        session.exclusiveSession()
        assert isinstance(session.host.getID(), int)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_upload_body_that_times_out_is_408(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HubRequestHandler, "timeout", 0.2)
    with socket.create_connection(("127.0.0.1", hub.port)) as sock:
        sock.sendall(b"POST /kojihub?filename=a&filepath=x&offset=0 HTTP/1.1\r\n"
                     b"Host: localhost\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: 100\r\n\r\nonly a few bytes")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 408")
