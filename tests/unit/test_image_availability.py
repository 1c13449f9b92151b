"""Pull policy decisions (no registry is reachable here, so the engine is a stand-in that
records what it was asked; real engines are exercised by the e2e tests for 'never')."""

from __future__ import annotations

from typing import Any

import pytest

from adjutant.container.errors import ImageUnavailable
from adjutant.image.availability import PullPolicy, ensure_image


class RecordingRuntime:
    name = "recording"

    def __init__(self, present: bool, pull_fails: bool = False) -> None:
        self.present = present
        self.pull_fails = pull_fails
        self.pulls: list[tuple[str, float]] = []

    def image_id(self, ref: str) -> str | None:
        return "sha256:abc" if self.present else None

    def pull(self, ref: str, timeout: float, platform: str | None = None) -> str:
        self.pulls.append((ref, timeout))
        if self.pull_fails:
            raise ImageUnavailable(ref, "registry unreachable")
        self.present = True
        return "sha256:new"


def ensure(runtime: Any, policy: PullPolicy) -> str:
    return ensure_image(runtime, "registry.example/el9:1", policy, pull_timeout=42)


def test_if_not_present_pulls_only_a_missing_image() -> None:
    present, missing = RecordingRuntime(True), RecordingRuntime(False)
    assert ensure(present, PullPolicy.IF_NOT_PRESENT) == "sha256:abc" and not present.pulls
    assert ensure(missing, PullPolicy.IF_NOT_PRESENT) == "sha256:new"
    assert missing.pulls == [("registry.example/el9:1", 42)]


def test_always_pulls_even_a_present_image() -> None:
    runtime = RecordingRuntime(True)
    ensure(runtime, PullPolicy.ALWAYS)
    assert runtime.pulls == [("registry.example/el9:1", 42)]


def test_never_does_not_pull_and_names_the_missing_image() -> None:
    runtime = RecordingRuntime(False)
    with pytest.raises(ImageUnavailable, match=r"image 'registry.example/el9:1' is not "
                                               r"available: .*'never'"):
        ensure(runtime, PullPolicy.NEVER)
    assert runtime.pulls == []


def test_a_failed_pull_names_the_image() -> None:
    with pytest.raises(ImageUnavailable, match=r"registry\.example/el9:1"):
        ensure(RecordingRuntime(False, pull_fails=True), PullPolicy.IF_NOT_PRESENT)
