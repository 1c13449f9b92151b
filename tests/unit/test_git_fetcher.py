"""The git fetcher's steps and errors, with a runner that records instead of running
(the real thing runs in containers in tests/e2e/test_worker_scm.py)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from adjutant.plugin import CommandResult
from adjutant_git.fetch import CheckoutError, clone_url, fetch

SCM = {"scheme": "git+https://", "user": None, "host": "src.example:8443",
       "repository": "/rpms/hello.git", "module": "", "revision": "v1.0"}


class Runner:
    def __init__(self, results: dict[str, CommandResult]) -> None:
        self.results = results
        self.calls: list[tuple[list[str], str]] = []

    def __call__(self, argv: Sequence[str], cwd: str) -> CommandResult:
        self.calls.append((list(argv), cwd))
        key = " ".join(argv[:2]) if argv[1] != "rev-parse" else argv[-1]
        return self.results.get(key, CommandResult(0, ""))


def test_clone_url_drops_git_plus_and_keeps_user_and_port() -> None:
    assert clone_url(SCM) == "https://src.example:8443/rpms/hello.git"
    assert clone_url({**SCM, "scheme": "git://", "user": "bob"}) == \
        "git://bob@src.example:8443/rpms/hello.git"


def test_a_tag_resolves_and_the_module_is_the_source_dir() -> None:
    run = Runner({"v1.0^{commit}": CommandResult(0, "a" * 40 + "\n")})
    result = fetch({**SCM, "module": "sub/dir"}, "/checkout/src", run)
    assert result.revision == "a" * 40 and result.path == "/checkout/src/sub/dir"
    assert run.calls[0] == (["git", "clone", "--no-checkout", "--quiet",
                             "https://src.example:8443/rpms/hello.git", "/checkout/src"], "/")
    assert run.calls[-1] == (["git", "reset", "--hard", "--quiet", "a" * 40], "/checkout/src")


def test_a_branch_resolves_through_origin() -> None:
    run = Runner({"v1.0^{commit}": CommandResult(1, ""),
                  "origin/v1.0^{commit}": CommandResult(0, "b" * 40)})
    assert fetch(SCM, "/checkout/src", run).revision == "b" * 40


@pytest.mark.parametrize(("results", "message"), [
    ({"git clone": CommandResult(128, "")}, "git clone of https://src.example:8443/"),
    ({"git clone": CommandResult(127, "")}, "add git to the tag's srpm-build group"),
    ({"v1.0^{commit}": CommandResult(1, ""), "origin/v1.0^{commit}": CommandResult(1, "")},
     "revision 'v1.0' is neither a commit, a tag nor a branch"),
])
def test_failures_name_the_step(results: dict[str, CommandResult], message: str) -> None:
    with pytest.raises(CheckoutError, match=message.replace("(", r"\(").replace(".", r"\.")):
        fetch(SCM, "/checkout/src", Runner(results))


def test_a_url_without_revision_is_refused() -> None:
    with pytest.raises(CheckoutError, match="needs a #revision"):
        fetch({**SCM, "revision": ""}, "/checkout/src", Runner({}))
