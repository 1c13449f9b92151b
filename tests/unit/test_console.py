"""The console script's garbage-collection handling around a command."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence

import pytest

from adjutant.cli import console


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_collection_is_off_while_a_command_loads_and_the_exit_code_is_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def fake_main(argv: Sequence[str] | None = None) -> int:
        seen.append(gc.isenabled())
        return 3

    monkeypatch.setattr("adjutant.cli.main.main", fake_main)
    with pytest.raises(SystemExit) as exited:
        console.run([])
    assert exited.value.code == 3
    assert seen == [False]
    assert gc.get_freeze_count() > 0  # the final collection has nothing left to scan


def test_startup_done_resumes_collection_and_freezes_what_loading_made() -> None:
    gc.disable()
    console.startup_done()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0

