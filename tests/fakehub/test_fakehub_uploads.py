"""Raw uploads, checkUpload and reading task output (protocol §5)."""

import base64
import zlib
from collections.abc import Callable
from pathlib import Path

import koji
import pytest
import requests
from conftest import Builder
from fakehub_helpers import raises_fault
from koji.xmlrpcplus import Fault, loads

from tests.support.fakehub import FakeHub


def opened_task(hub: FakeHub, builder: Builder) -> int:
    task_id = hub.make_task("buildArch", [])
    assert builder.session.host.openTask(task_id) is not None
    return task_id


def task_dir(task_id: int) -> str:
    return koji.pathinfo.taskrelpath(task_id)


def upload(session: koji.ClientSession, data: bytes, path: str, name: str,
           offset: int = 0, overwrite: bool = False, verify: str = "adler32") -> dict[str, object]:
    """One rawUpload chunk, the way fastUpload and kojid's incremental upload send it."""
    reply: dict[str, object] = session._callMethod(
        "rawUpload", (data, offset, path, name), {"overwrite": overwrite, "verify": verify})
    return reply


# -- where a host may upload ---------------------------------------------------------------


def test_host_uploads_into_the_dir_of_its_own_task(hub: FakeHub, builder: Builder,
                                                   tmp_path: Path) -> None:
    task_id = opened_task(hub, builder)
    local = tmp_path / "build.log"
    local.write_bytes(b"x" * 3000)
    builder.session.uploadWrapper(str(local), task_dir(task_id), blocksize=1024)
    assert hub.work_path(f"{task_dir(task_id)}/build.log").read_bytes() == b"x" * 3000
    assert hub.calls["rawUpload"] == 3


def test_upload_into_another_hosts_task_dir_is_1004(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    me, other = make_builder(), make_builder()
    theirs = opened_task(hub, other)
    with raises_fault(1004) as info:
        upload(me.session, b"x", task_dir(theirs), "build.log")
    assert str(info.value) == f"host {me.host_id} does not own task {theirs}"


def test_upload_for_a_canceled_or_closed_task_is_1004(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    upload(builder.session, b"x", task_dir(task_id), "a.log")
    hub.cancel_task(task_id)
    with raises_fault(1004):
        upload(builder.session, b"y", task_dir(task_id), "a.log", offset=1)


def test_upload_into_a_task_dir_by_a_normal_user_is_1002(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    hub.add_user("alice", "pw")
    with raises_fault(1002):
        upload(hub.client("alice", "pw"), b"x", task_dir(task_id), "a.log")


def test_other_dirs_belong_to_their_first_uploader(hub: FakeHub) -> None:
    hub.add_user("alice", "pw")
    hub.add_user("bob", "pw")
    alice, bob = hub.client("alice", "pw"), hub.client("bob", "pw")
    upload(alice, b"srpm", "cli-build/1.abc", "x.src.rpm")
    upload(alice, b"more", "cli-build/1.abc", "y.src.rpm")
    with raises_fault(1000) as info:
        upload(bob, b"evil", "cli-build/1.abc", "z.src.rpm")
    assert "not owner" in str(info.value)


def test_upload_without_login_is_1004(hub: FakeHub) -> None:
    reply = requests.post(f"{hub.url}?filename=a&filepath=cli-build/x&offset=0",
                          data=b"x", headers={"Content-Type": "application/octet-stream"},
                          timeout=5)
    assert reply.status_code == 200
    with pytest.raises(Fault) as info:
        loads(reply.content)
    assert info.value.faultCode == 1004


@pytest.mark.parametrize(("path", "name"), [
    ("cli-build/x", "a/b"), ("cli-build/x", ".hidden"), ("../outside", "a"),
    ("cli-build/../../x", "a"), ("", "a"),
])
def test_bad_file_or_dir_names_are_1000(hub: FakeHub, path: str, name: str) -> None:
    hub.add_user("alice", "pw")
    with raises_fault(1000):
        upload(hub.client("alice", "pw"), b"x", path, name)


# -- offsets, overwrite, verification ----------------------------------------------------------


def test_reply_reports_size_offset_and_adler32_of_the_chunk(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    reply = upload(builder.session, b"hello", task_dir(task_id), "a.log")
    assert reply == {"size": 5, "offset": 0, "fileverify": "adler32",
                     "hexdigest": f"{zlib.adler32(b'hello'):08x}"}


@pytest.mark.parametrize(("verify", "expect"), [
    ("md5", "5d41402abc4b2a76b9719d911017c592"),
    ("sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
])
def test_md5_and_sha256_verification(hub: FakeHub, builder: Builder, verify: str,
                                     expect: str) -> None:
    task_id = opened_task(hub, builder)
    reply = upload(builder.session, b"hello", task_dir(task_id), "a.log", verify=verify)
    assert reply["hexdigest"] == expect


def test_unknown_verify_type_is_1000(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    with raises_fault(1000):
        upload(builder.session, b"x", task_dir(task_id), "a.log", verify="crc7")


def test_existing_file_at_offset_zero_without_overwrite_is_1000(
    hub: FakeHub, builder: Builder
) -> None:
    task_id = opened_task(hub, builder)
    upload(builder.session, b"first", task_dir(task_id), "a.log")
    with raises_fault(1000) as info:
        upload(builder.session, b"again", task_dir(task_id), "a.log")
    assert "upload path exists" in str(info.value)


def test_overwrite_truncates_at_the_offset(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    upload(builder.session, b"0123456789", task_dir(task_id), "a.log")
    upload(builder.session, b"ab", task_dir(task_id), "a.log", offset=4, overwrite=True)
    assert hub.work_path(f"{task_dir(task_id)}/a.log").read_bytes() == b"0123ab"
    upload(builder.session, b"new", task_dir(task_id), "a.log", offset=0, overwrite=True)
    assert hub.work_path(f"{task_dir(task_id)}/a.log").read_bytes() == b"new"


def test_offset_minus_one_appends(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    upload(builder.session, b"abc", task_dir(task_id), "a.log")
    reply = upload(builder.session, b"def", task_dir(task_id), "a.log", offset=-1)
    assert reply["offset"] == 3
    assert hub.work_path(f"{task_dir(task_id)}/a.log").read_bytes() == b"abcdef"


def test_without_overwrite_the_file_must_end_at_offset_plus_size(
    hub: FakeHub, builder: Builder
) -> None:
    task_id = opened_task(hub, builder)
    upload(builder.session, b"0123456789", task_dir(task_id), "a.log")
    with raises_fault(1000):
        upload(builder.session, b"ab", task_dir(task_id), "a.log", offset=2)


def test_a_resent_chunk_is_accepted(hub: FakeHub, builder: Builder) -> None:
    """rawUpload records no call number, so ClientSession may retry it."""
    task_id = opened_task(hub, builder)
    session = builder.session
    handler, headers, body = session._prepCall(
        "rawUpload", (b"chunk", 0, task_dir(task_id), "a.log"), {"overwrite": True})
    session._sendCall(handler, headers, body)
    session._sendCall(handler, headers, body)
    assert hub.work_path(f"{task_dir(task_id)}/a.log").read_bytes() == b"chunk"


def test_empty_file_upload_creates_the_file(hub: FakeHub, builder: Builder,
                                            tmp_path: Path) -> None:
    task_id = opened_task(hub, builder)
    (tmp_path / "empty.log").write_bytes(b"")
    builder.session.uploadWrapper(str(tmp_path / "empty.log"), task_dir(task_id))
    assert hub.work_path(f"{task_dir(task_id)}/empty.log").read_bytes() == b""


def test_large_sizes_travel_as_i8_in_check_upload(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    upload(builder.session, b"x", task_dir(task_id), "big.img")
    path = hub.work_path(f"{task_dir(task_id)}/big.img")
    with path.open("r+b") as fo:
        fo.truncate(3 * 2**30)  # sparse
    assert builder.session.checkUpload(task_dir(task_id), "big.img")["size"] == 3 * 2**30


# -- checkUpload and reading output ------------------------------------------------------------


def test_check_upload_returns_none_or_size_mtime_and_digest(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    check = builder.session.checkUpload
    assert check(task_dir(task_id), "missing.log") is None
    upload(builder.session, b"0123456789", task_dir(task_id), "a.log")
    info = check(task_dir(task_id), "a.log")
    assert info["size"] == 10 and isinstance(info["mtime"], float)
    assert "hexdigest" not in info
    full = check(task_dir(task_id), "a.log", verify="adler32")
    assert full["hexdigest"] == f"{zlib.adler32(b'0123456789'):08x}"
    assert full["sumlength"] == 10
    tail = check(task_dir(task_id), "a.log", verify="adler32", tail=4)
    assert tail["hexdigest"] == f"{zlib.adler32(b'6789'):08x}"


def test_a_log_can_be_read_while_the_task_runs(hub: FakeHub, builder: Builder) -> None:
    task_id = opened_task(hub, builder)
    upload(builder.session, b"line 1\n", task_dir(task_id), "build.log")
    upload(builder.session, b"line 2\n", task_dir(task_id), "build.log", offset=7,
           overwrite=True)
    upload(builder.session, b"x", f"{task_dir(task_id)}/sub", "nested.txt")
    reader = hub.client()
    assert sorted(reader.listTaskOutput(task_id)) == ["build.log", "sub/nested.txt"]
    assert reader.downloadTaskOutput(task_id, "build.log") == b"line 1\nline 2\n"
    assert reader.downloadTaskOutput(task_id, "build.log", offset=7, size=4) == b"line"
    assert reader.downloadTaskOutput(task_id, "build.log", offset=-3) == b" 2\n"
    raw = reader.callMethod("downloadTaskOutput", task_id, "build.log")
    assert base64.b64decode(raw) == b"line 1\nline 2\n"  # the wire carries base64 text
    stat = reader.listTaskOutput(task_id, stat=True)
    assert stat["build.log"]["st_size"] == "14"
    assert reader.listTaskOutput(task_id, all_volumes=True) == {
        "build.log": ["DEFAULT"], "sub/nested.txt": ["DEFAULT"]}


def test_download_of_missing_output_is_1000(hub: FakeHub) -> None:
    with raises_fault(1000):
        hub.client().downloadTaskOutput(1, "nothing.log")
    with raises_fault(1000):
        hub.client().downloadTaskOutput(1, "../../etc/passwd")
    assert hub.client().listTaskOutput(42) == []
