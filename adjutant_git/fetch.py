"""Checking out a Koji SCM URL with git, the way kojid does, inside the checkout container.

``git+https://host/path/repo.git?module#rev``: clone without checkout, then hard-reset to
the revision (a commit id, a tag, or a branch of origin); the result names the exact
commit. Commands are argument lists; the URL never passes through a shell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adjutant.plugin import CheckoutResult, CommandRunner


class CheckoutError(Exception):
    """A git step failed; the message names the step (git's own error is in checkout.log)."""


def clone_url(scm: Mapping[str, Any]) -> str:
    """The URL git clones: koji's scheme without ``git+``, user, host and repository."""
    scheme = scm["scheme"].removesuffix("://").removeprefix("git+")
    user = f"{scm['user']}@" if scm.get("user") else ""
    return f"{scheme}://{user}{scm['host']}{scm['repository']}"


def common_url(scm: Mapping[str, Any]) -> str:
    """kojid's URL of the ``common`` repository beside the module's: ``.../common``, or
    ``.../common.git`` for a bare ``.../name.git``, ``.../common/.git`` for ``.../.git``."""
    url = clone_url(scm)
    if url.endswith("/.git"):
        return f"{url[:-len('/.git')].rsplit('/', 1)[0]}/common/.git"
    if url.endswith(".git"):
        return f"{url.rsplit('/', 1)[0]}/common.git"
    return f"{url.rsplit('/', 1)[0]}/common"


def fetch_common(scm: Mapping[str, Any], dest: str, run: CommandRunner) -> CheckoutResult:
    """Clone the ``common`` repository (its default branch, as kojid) into ``dest``."""
    url = common_url(scm)
    if run(["git", "clone", "--quiet", url, dest], cwd="/").exit_code:
        raise CheckoutError(f"git clone of the common repository {url} failed (allowed_scms "
                            "asks for use_common); see checkout.log")
    found = run(["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=dest)
    return CheckoutResult(path=dest, revision=found.stdout.strip())


def fetch(scm: Mapping[str, Any], dest: str, run: CommandRunner) -> CheckoutResult:
    """Check the URL's revision out into ``dest``; the result's path is its module dir."""
    revision = scm["revision"]
    if not revision:
        raise CheckoutError("an SCM URL needs a #revision (commit, tag or branch)")
    cloned = run(["git", "clone", "--no-checkout", "--quiet", clone_url(scm), dest], cwd="/")
    if cloned.exit_code == 127:
        raise CheckoutError("git is not installed in the buildroot: add git to the tag's "
                            "srpm-build group")
    if cloned.exit_code:
        raise CheckoutError(f"git clone of {clone_url(scm)} failed; see checkout.log")
    for candidate in (revision, f"origin/{revision}"):
        found = run(["git", "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"],
                    cwd=dest)
        if found.exit_code == 0:
            commit = found.stdout.strip()
            break
    else:
        raise CheckoutError(f"revision {revision!r} is neither a commit, a tag nor a branch "
                            f"of {clone_url(scm)}")
    if run(["git", "reset", "--hard", "--quiet", commit], cwd=dest).exit_code:
        raise CheckoutError(f"git reset to {commit} failed; see checkout.log")
    module = (scm.get("module") or "").strip("/")
    return CheckoutResult(path=f"{dest}/{module}" if module else dest, revision=commit)
