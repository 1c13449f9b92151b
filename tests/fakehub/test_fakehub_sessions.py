"""Login, the exclusive lock, call numbers, expiry and logout (protocol §1.4-1.7, §2)."""

from collections.abc import Callable
from pathlib import Path

import koji
import pytest
from conftest import Builder
from fakehub_helpers import raises_fault, raw_call, session_headers

from tests.support.fakehub import FakeHub

# -- login ---------------------------------------------------------------------------------


def test_login_returns_session_id_key_and_header_auth(hub: FakeHub) -> None:
    hub.add_host("builder1", password="pw")
    sinfo = raw_call(hub.url, "login", "builder1", "pw")
    assert set(sinfo) == {"session-id", "session-key", "header-auth"}
    assert sinfo["header-auth"] is True
    assert isinstance(sinfo["session-id"], int)


@pytest.mark.parametrize(("user", "password"), [("builder1", "wrong"), ("nobody", "pw"),
                                                ("builder1", "")])
def test_bad_credentials_are_1002(hub: FakeHub, user: str, password: str) -> None:
    hub.add_host("builder1", password="pw")
    with raises_fault(1002):
        raw_call(hub.url, "login", user, password)


def test_a_user_without_password_cannot_log_in_with_one(hub: FakeHub) -> None:
    hub.add_host("builder1")
    with raises_fault(1002):
        raw_call(hub.url, "login", "builder1", "anything")


def test_bad_session_key_or_id_is_1002(hub: FakeHub, builder: Builder) -> None:
    headers = session_headers(builder.session, None)
    with raises_fault(1002):
        raw_call(hub.url, "echo", 1, headers={**headers, "Koji-Session-Key": "1-forged"})
    with raises_fault(1002):
        raw_call(hub.url, "echo", 1, headers={**headers, "Koji-Session-Id": "9999"})


def test_closed_session_is_1002(hub: FakeHub, builder: Builder) -> None:
    headers = session_headers(builder.session, None)
    builder.session.logout()
    with raises_fault(1002) as info:
        raw_call(hub.url, "echo", 1, headers=headers)
    assert "Invalid session or bad credentials" in str(info.value)


def test_session_info_is_what_kojid_reads_at_start_up(builder: Builder) -> None:
    info = builder.session.getSessionInfo()
    assert info["exclusive"] is True
    assert info["authtype"] == koji.AUTHTYPES["NORMAL"]
    assert {"start_ts", "user_id", "master", "expired", "callnum"} <= set(info)
    assert builder.session.host.getID() == builder.host_id
    assert builder.session.echo("OK") == ["OK"]


# -- sslLogin test hook ----------------------------------------------------------------------


def _cn_login(hub: FakeHub, cn: str | None) -> koji.ClientSession:
    session = hub.client()
    if cn is not None:
        session.rsession.headers["Koji-Fake-Client-CN"] = cn
    sinfo = session.callMethod("sslLogin")
    session.setSession(sinfo)
    return session


def test_certificate_cn_naming_a_host_logs_in_as_that_host(tmp_path: Path) -> None:
    with FakeHub(tmp_path, trust_cn_header=True) as hub:
        host_id = hub.add_host("builder1")
        session = _cn_login(hub, "builder1")
        session.exclusiveSession()
        assert session.host.getID() == host_id
        assert session.getSessionInfo()["authtype"] == koji.AUTHTYPES["SSL"]


def test_certificate_cn_naming_no_host_gets_1002_on_host_calls(tmp_path: Path) -> None:
    with FakeHub(tmp_path, trust_cn_header=True) as hub:
        session = _cn_login(hub, "not-a-host")  # LoginCreatesUser makes a NORMAL user
        session.exclusiveSession()
        with raises_fault(1002) as info:
            session.host.getID()
        assert "is not a host" in str(info.value)


def test_sslLogin_without_a_trusted_certificate_is_1002(tmp_path: Path) -> None:
    with FakeHub(tmp_path, trust_cn_header=True) as hub, raises_fault(1002):
        _cn_login(hub, None)
    with FakeHub(tmp_path) as hub:
        hub.add_host("builder1")
        with raises_fault(1002):
            _cn_login(hub, "builder1")  # header not trusted by default


# -- host.* needs a host user and the lock ---------------------------------------------------


def test_host_call_without_login_is_1002_not_logged_in(hub: FakeHub) -> None:
    with raises_fault(1002) as info:
        hub.client().host.getID()
    assert "Not logged-in" in str(info.value)


def test_host_call_by_a_normal_user_is_1002(hub: FakeHub) -> None:
    hub.add_user("alice", "pw")
    session = hub.client("alice", "pw", exclusive=True)
    with raises_fault(1002) as info:
        session.host.getID()
    assert "is not a host" in str(info.value)


def test_host_call_without_exclusive_session_is_1002(hub: FakeHub) -> None:
    hub.add_host("builder1", password="pw")
    session = hub.client("builder1", "pw")
    with raises_fault(1002) as info:
        session.host.getID()
    assert "requires an exclusive session" in str(info.value)


def test_subsession_inherits_the_masters_lock(builder: Builder) -> None:
    sub = builder.session.subsession()
    assert sub.host.getID() == builder.host_id


def test_subsession_of_an_unlocked_master_has_no_lock(hub: FakeHub) -> None:
    hub.add_host("builder1", password="pw")
    master = hub.client("builder1", "pw")
    sub = master.subsession()
    with raises_fault(1002):
        sub.host.getID()


# -- the exclusive lock ------------------------------------------------------------------------


def test_second_session_cannot_take_a_held_lock(hub: FakeHub, builder: Builder) -> None:
    second = hub.client(builder.name, builder.password)
    with raises_fault(1006) as info:
        second.exclusiveSession()
    assert "Cannot get exclusive session" in str(info.value)


def test_force_takes_the_lock_and_closes_the_holder(hub: FakeHub, builder: Builder) -> None:
    second = hub.client(builder.name, builder.password)
    second.exclusiveSession(force=True)
    assert second.host.getID() == builder.host_id
    with raises_fault(1002):
        builder.session.host.getID()


def test_other_calls_of_a_locked_out_session_are_1006(hub: FakeHub, builder: Builder) -> None:
    second = hub.client(builder.name, builder.password)
    with raises_fault(1006) as info:
        second.echo(1)
    assert "User locked by another session" in str(info.value)
    with raises_fault(1006):
        second.getSessionInfo()
    second.logout()  # logout stays possible


def test_exclusive_session_twice_is_1000(builder: Builder) -> None:
    with raises_fault(1000):
        builder.session.exclusiveSession()


def test_exclusive_session_from_a_subsession_is_1000(builder: Builder) -> None:
    sub = builder.session.subsession()
    with raises_fault(1000):
        sub.exclusiveSession()


# -- call numbers ----------------------------------------------------------------------------


def test_callnum_below_the_recorded_one_is_1008(hub: FakeHub, builder: Builder) -> None:
    raw_call(hub.url, "subsession", headers=session_headers(builder.session, 100))
    with raises_fault(1008) as info:
        raw_call(hub.url, "echo", 1, headers=session_headers(builder.session, 99))
    assert str(info.value).startswith("100 > 99 (session ")


def test_resent_callnum_of_a_writing_call_is_1009(hub: FakeHub, builder: Builder) -> None:
    headers = session_headers(builder.session, 100)
    raw_call(hub.url, "subsession", headers=headers)
    with raises_fault(1009) as info:
        raw_call(hub.url, "subsession", headers=headers)
    assert "unable to retry call 100 (method subsession)" in str(info.value)


@pytest.mark.parametrize("method_params", [
    ("host.updateHost", (0.0, True)),
    ("host.taskSetWait", (1, None)),
    ("host.taskWait", (1,)),
])
def test_idempotent_methods_run_again_on_a_resent_callnum(
    hub: FakeHub, builder: Builder, method_params: tuple[str, tuple[object, ...]]
) -> None:
    method, params = method_params
    hub.make_task("sleep", [1])
    headers = session_headers(builder.session, 100)
    raw_call(hub.url, "host.updateHost", 0.0, True, headers=headers)
    calls_before = hub.calls[method]
    raw_call(hub.url, method, *params, headers=headers)
    assert hub.calls[method] == calls_before + 1


def test_set_buildroot_state_is_idempotent_too(hub: FakeHub, builder: Builder) -> None:
    task_id = hub.make_task("buildArch", [])
    builder.session.host.openTask(task_id)
    repo_id = hub.add_repo(hub.add_tag("build"))
    br = builder.session.host.newBuildRoot(repo_id, "x86_64", task_id)
    headers = session_headers(builder.session, 100)
    raw_call(hub.url, "host.setBuildRootState", br, "BUILDING", headers=headers)
    raw_call(hub.url, "host.setBuildRootState", br, "BUILDING", headers=headers)


def test_read_only_calls_do_not_record_the_callnum(hub: FakeHub, builder: Builder) -> None:
    raw_call(hub.url, "echo", 1, headers=session_headers(builder.session, 100))
    raw_call(hub.url, "host.getHostTasks", headers=session_headers(builder.session, 100))
    # 100 was never recorded, so a lower number that writes is fine
    raw_call(hub.url, "subsession", headers=session_headers(builder.session, 50))


def test_faulted_calls_do_not_record_the_callnum(hub: FakeHub, builder: Builder) -> None:
    headers = session_headers(builder.session, 100)
    with raises_fault(1000):
        raw_call(hub.url, "host.closeTask", 12345, "x", headers=headers)  # no such task
    raw_call(hub.url, "subsession", headers=headers)  # same number, not a retry


def test_no_callnum_header_means_no_check(hub: FakeHub, builder: Builder) -> None:
    raw_call(hub.url, "subsession", headers=session_headers(builder.session, 100))
    raw_call(hub.url, "subsession", headers=session_headers(builder.session, None))
    raw_call(hub.url, "subsession", headers=session_headers(builder.session, None))


def test_every_subsession_counts_on_its_own(hub: FakeHub, builder: Builder) -> None:
    sub = builder.session.subsession()  # its client counter starts at 0
    raw_call(hub.url, "subsession", headers=session_headers(builder.session, 100))
    sub.host.updateHost(0.0, True)  # callnum 0 of the subsession: accepted
    sub.subsession()
    with raises_fault(1008):
        builder.session.echo(1)  # the master's client is far below 100


def test_client_session_never_trips_over_its_own_callnums(builder: Builder) -> None:
    session = builder.session
    for _ in range(5):
        session.host.updateHost(0.0, True)
        session.subsession()


# -- expiry, renewal, logout -----------------------------------------------------------------


def _expired_hub(tmp_path: Path) -> FakeHub:
    return FakeHub(tmp_path, SessionRenewalTimeout=1)  # minutes


def test_expired_session_and_its_subsessions_get_1007(tmp_path: Path) -> None:
    with _expired_hub(tmp_path) as hub:
        hub.add_host("builder1", password="pw")
        master = hub.client("builder1", "pw", exclusive=True)
        sub = master.subsession()
        hub.advance_clock(61)
        with raises_fault(1007):
            raw_call(hub.url, "echo", 1, headers=session_headers(master, None))
        with raises_fault(1007):
            raw_call(hub.url, "echo", 1, headers=session_headers(sub, None))


def test_login_renews_an_expired_session_keeping_its_id(tmp_path: Path) -> None:
    with _expired_hub(tmp_path) as hub:
        hub.add_host("builder1", password="pw")
        master = hub.client("builder1", "pw", exclusive=True)
        hub.advance_clock(61)
        old = dict(master.sinfo)
        renewed = raw_call(hub.url, "login", "builder1", "pw",
                           {"renew": True, "exclusive": True, "__starstar": True},
                           headers=session_headers(master, None))
        assert renewed["session-id"] == old["session-id"]
        assert renewed["session-key"] != old["session-key"]
        headers = {"Koji-Session-Id": str(renewed["session-id"]),
                   "Koji-Session-Key": renewed["session-key"]}
        assert raw_call(hub.url, "host.getID", headers=headers) == 1


def test_client_renewal_then_trips_over_the_kept_callnum(tmp_path: Path) -> None:
    """The hub keeps the recorded call number across a renewal while ClientSession restarts
    counting at 0: the retried call gets 1008 (why kojid should log in afresh instead)."""
    with _expired_hub(tmp_path) as hub:
        hub.add_host("builder1", password="pw")
        master = hub.client("builder1", "pw", exclusive=True)
        master.host.updateHost(0.0, True)  # records a call number
        hub.advance_clock(61)
        with raises_fault(1008):
            master.echo(1)  # 1007 → renew → resend with callnum 0 → 1008


def test_client_renewal_is_transparent_when_nothing_was_recorded(tmp_path: Path) -> None:
    with _expired_hub(tmp_path) as hub:
        hub.add_user("alice", "pw")
        session = hub.client("alice", "pw")
        hub.advance_clock(61)
        assert session.echo(1) == [1]
        assert hub.calls["login"] == 2


def test_logout_closes_the_session_and_its_subsessions(hub: FakeHub, builder: Builder) -> None:
    sub = builder.session.subsession()
    sub_headers = session_headers(sub, None)
    builder.session.logout()
    with raises_fault(1002):
        raw_call(hub.url, "echo", 1, headers=sub_headers)


def test_logout_child_closes_one_subsession(hub: FakeHub, builder: Builder) -> None:
    first = builder.session.subsession()
    second = builder.session.subsession()
    builder.session.logoutChild(first.sinfo["session-id"])
    with raises_fault(1002):
        raw_call(hub.url, "echo", 1, headers=session_headers(first, None))
    assert second.echo(1) == [1]
    assert builder.session.echo(1) == [1]


def test_forced_lock_leaves_the_old_holders_subsessions_without_lock(
    hub: FakeHub, make_builder: Callable[..., Builder]
) -> None:
    builder = make_builder("builder1")
    sub = builder.session.subsession()
    usurper = hub.client("builder1", "builder1-pw")
    usurper.exclusiveSession(force=True)
    with raises_fault(1006):
        sub.host.getID()


def test_ssl_login_also_renews_an_expired_session(tmp_path: Path) -> None:
    with FakeHub(tmp_path, SessionRenewalTimeout=1, trust_cn_header=True) as hub:
        hub.add_host("builder1")
        session = _cn_login(hub, "builder1")
        hub.advance_clock(61)
        headers = {**session_headers(session, None), "Koji-Fake-Client-CN": "builder1"}
        renewed = raw_call(hub.url, "sslLogin", {"renew": True, "__starstar": True},
                           headers=headers)
        assert renewed["session-id"] == session.sinfo["session-id"]


def test_repo_state_calls_are_idempotent(hub: FakeHub, builder: Builder) -> None:
    hub.grant(builder.name, "repo")
    repo_id = hub.add_repo(hub.add_tag("f40-build"))
    headers = session_headers(builder.session, 100)
    for method in ("repoExpire", "repoExpire", "repoProblem", "repoProblem", "repoDelete",
                   "repoDelete"):
        raw_call(hub.url, method, repo_id, headers=headers)
    assert hub.history.repo_states(repo_id) == [
        "READY", "EXPIRED", "EXPIRED", "PROBLEM", "PROBLEM", "DELETED", "DELETED"]


def test_pre_1_30_query_string_sessions_are_accepted(hub: FakeHub, builder: Builder) -> None:
    sinfo = builder.session.sinfo
    url = f"{hub.url}?session-id={sinfo['session-id']}&session-key={sinfo['session-key']}"
    assert raw_call(f"{url}&callnum=100", "host.getID") == builder.host_id
    raw_call(f"{url}&callnum=101", "subsession")
    with raises_fault(1009):
        raw_call(f"{url}&callnum=101", "subsession")
