"""Entry point module: registers the ``git`` SCM fetcher (koji's git URL schemes)."""

from __future__ import annotations

from adjutant.plugin import ScmFetcher, hookimpl

SCHEMES = ("git", "git+http", "git+https", "git+rsync", "git+ssh")


@hookimpl
def adjutant_scm_fetchers() -> list[ScmFetcher]:
    from adjutant_git.fetch import fetch, fetch_common

    return [ScmFetcher(name="git", schemes=SCHEMES, fetch=fetch, fetch_common=fetch_common,
                       description="git clone of a Koji SCM URL at its #revision, in a container")]
