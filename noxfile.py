"""Developer sessions. Each reuses one virtualenv; the engines come from scripts/setup-host.sh.

    nox -s tests        the whole suite (real podman and docker)
    nox -s conformance  the runtime conformance suite only
    nox -s e2e          end-to-end tests against the fake hub
    nox -s lint         ruff
    nox -s typecheck    mypy
    nox -s bench        benchmarks: print figures, assert nothing
    nox -s demo         build the example package
"""

from __future__ import annotations

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

PACKAGES = ["adjutant", "adjutant_podman", "adjutant_docker", "adjutant_git"]


def _install(session: nox.Session) -> None:
    session.install("-e", ".[podman,docker,dev]")
    # An editable install is not byte-compiled; without this, where PYTHONDONTWRITEBYTECODE
    # is set, every adjutant command compiles the project from source (see setup-host.sh).
    session.run("python", "-m", "compileall", "-q", *PACKAGES, silent=True)


@nox.session
def tests(session: nox.Session) -> None:
    _install(session)
    session.run("pytest", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    _install(session)
    session.run("pytest", "tests/conformance", *session.posargs)


@nox.session
def e2e(session: nox.Session) -> None:
    _install(session)
    session.run("pytest", "-m", "e2e", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", *PACKAGES, "tests", "noxfile.py", "bench")


@nox.session
def typecheck(session: nox.Session) -> None:
    _install(session)
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    _install(session)
    session.run("python", "-m", "bench", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    session.run("scripts/demo.sh", *session.posargs, external=True)
