"""Checking out a Koji SCM URL with git, the way kojid does.

``git+https://host/path/repo.git?module#rev``: clone without checkout, fetch the revision,
hard-reset to it; the result names the exact commit. Commands are argument lists; the URL
never passes through a shell.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from adjutant.plugin import CheckoutResult


class CheckoutError(Exception):
    """A git step failed; the message names the step and git's own error."""


def clone_url(url: str) -> tuple[str, str, str]:
    """Split a Koji SCM URL into (git clone URL, module sub-directory, revision)."""
    parts = urlsplit(url)
    if not parts.fragment:
        raise CheckoutError(f"{url}: an SCM URL needs a #revision (commit, tag or branch)")
    if ";" in parts.path:
        raise CheckoutError(f"{url}: ';' parameters are not allowed in an SCM URL")
    scheme = parts.scheme.removeprefix("git+")
    netloc = parts.netloc
    path = unquote(parts.path).rstrip("/")
    return f"{scheme}://{netloc}{path}", unquote(parts.query), parts.fragment


def _git(args: list[str], cwd: Path | None, logfile: Path, step: str) -> str:
    with open(logfile, "ab") as log:
        log.write(f"$ git {' '.join(args)}\n".encode())
        log.flush()
        proc = subprocess.run(["git", *args], cwd=cwd, stdout=subprocess.PIPE,
                              stderr=log, check=False)
        log.write(proc.stdout)
    if proc.returncode != 0:
        raise CheckoutError(f"git {step} failed (exit {proc.returncode}); see {logfile.name}")
    return proc.stdout.decode().strip()


def fetch(url: str, dest: Path, logfile: Path) -> CheckoutResult:
    """Check ``url`` out into ``dest`` (must not exist); return the module path and commit."""
    repo, module, revision = clone_url(url)
    _git(["clone", "--no-checkout", "--quiet", repo, str(dest)], None, logfile, "clone")
    _git(["fetch", "--quiet", "origin", revision], dest, logfile, f"fetch {revision}")
    _git(["reset", "--hard", "--quiet", "FETCH_HEAD"], dest, logfile, "reset")
    commit = _git(["rev-parse", "HEAD"], dest, logfile, "rev-parse")
    return CheckoutResult(path=dest / module if module else dest, revision=commit)
