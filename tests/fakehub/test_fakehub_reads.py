"""Methods marked ``reads_only``: the hub checks that they change nothing, or, made with
``check_reads=False`` (as benchmarks are), runs them with no snapshot at all."""

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakehub.fakehub_helpers import raises_fault
from tests.support.fakehub import FakeHub
from tests.support.fakehub.context import CallContext
from tests.support.fakehub.registry import ApiMethod


def _add_bad_read(hub: FakeHub) -> None:
    """A method wrongly marked reads_only: it adds a channel."""
    def bad_read(ctx: CallContext, /) -> int:
        ctx.db.channels[999] = next(iter(ctx.db.channels.values()))
        return 1

    hub._dispatcher.registry._methods["test.badRead"] = ApiMethod(
        "test.badRead", bad_read, inspect.signature(bad_read), reads_only=True)


def test_a_read_that_writes_fails_loudly_and_its_change_is_undone(hub: FakeHub) -> None:
    _add_bad_read(hub)
    session = hub.client()
    with raises_fault(1) as failed:
        session.callMethod("test.badRead")
    assert "test.badRead is marked reads_only but changed the database" in str(failed.value)
    with session.multicall() as multi:
        item = multi.callMethod("test.badRead")
    with pytest.raises(Exception, match="marked reads_only"):
        _ = item.result
    with hub.core.lock:
        assert 999 not in hub.core.db.channels


@pytest.fixture
def unchecked(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub(tmp_path / "koji", check_reads=False) as started:
        yield started


def test_unchecked_reads_answer_alike_and_a_failing_one_loses_nothing(
        unchecked: FakeHub) -> None:
    unchecked.add_tag("f-build", arches="x86_64")
    repo_id = unchecked.add_repo("f-build")
    host_id = unchecked.add_host("builder1", password="pw")
    session = unchecked.client("builder1", "pw", exclusive=True)
    assert session.repoInfo(repo_id)["id"] == repo_id
    assert session.getBuildConfig("f-build")["arches"] == "x86_64"
    with raises_fault(1000):
        session.repoInfo(12345, strict=True)
    with session.multicall() as multi:
        found = multi.repoInfo(repo_id)
        missing = multi.getBuildConfig("nope")
        multi.host.updateHost(1.5, True)  # a write in the same multiCall
    assert found.result["id"] == repo_id
    with pytest.raises(Exception, match="nope"):
        _ = missing.result
    assert (unchecked.host(host_id)["ready"], unchecked.host(host_id)["task_load"]) == \
        (True, 1.5)
