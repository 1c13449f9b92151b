"""The git fetcher's use_common checkout: kojid's common repository URL, the clone."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from adjutant.plugin import CommandResult
from adjutant_git.fetch import CheckoutError, common_url, fetch_common

SCM = {"scheme": "git+https://", "user": None, "host": "src.example",
       "repository": "/rpms/hello.git", "module": "", "revision": "v1.0"}


@pytest.mark.parametrize("repository, common", [
    ("/rpms/hello.git", "https://src.example/rpms/common.git"),   # bare: common.git
    ("/rpms/hello/.git", "https://src.example/rpms/common/.git"),  # its .git: common/.git
    ("/rpms/hello", "https://src.example/rpms/common"),
])
def test_the_common_repository_sits_beside_the_modules(repository: str, common: str) -> None:
    assert common_url({**SCM, "repository": repository}) == common


def test_common_is_cloned_at_its_default_branch() -> None:
    calls: list[tuple[list[str], str]] = []

    def run(argv: Sequence[str], cwd: str) -> CommandResult:
        calls.append((list(argv), cwd))
        return CommandResult(0, "c" * 40 + "\n" if "rev-parse" in argv else "")

    result = fetch_common(SCM, "/checkout/common", run)
    assert calls[0] == (["git", "clone", "--quiet", "https://src.example/rpms/common.git",
                         "/checkout/common"], "/")
    assert (result.path, result.revision) == ("/checkout/common", "c" * 40)


def test_a_failed_common_clone_names_the_repository() -> None:
    with pytest.raises(CheckoutError, match=re.escape(
            "common repository https://src.example/rpms/common.git failed")):
        fetch_common(SCM, "/checkout/common", lambda argv, cwd: CommandResult(128, ""))
