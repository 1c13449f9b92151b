"""The parent build task's checks of its options, made before it asks the hub anything
(kojid's order): a bad option fails the task at once, saying which and why."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import koji
import pytest

from adjutant.worker.handlers.build import BuildTask


def run_build(opts: dict[str, Any]) -> None:
    # no session: any hub call would fail with AttributeError, not the BuildError expected
    task = BuildTask(7, "build", [], None, SimpleNamespace(workdir="/nonexistent", plugins=None))
    task.handler("cli-build/1.2/hello-1.0-1.src.rpm", "f-target", opts)


def test_arch_override_on_a_regular_build_is_refused() -> None:
    with pytest.raises(koji.BuildError, match="arch_override is only allowed for scratch"):
        run_build({"arch_override": "x86_64"})


@pytest.mark.parametrize(("metadata", "why"), [
    (["a", "list"], "must be serializable to a JSON object"),
    ({"when": object()}, "is not JSON serializable"),
])
def test_custom_user_metadata_must_be_a_json_object(metadata: Any, why: str) -> None:
    with pytest.raises(koji.BuildError, match=f"custom_user_metadata {why}"):
        run_build({"custom_user_metadata": metadata})
