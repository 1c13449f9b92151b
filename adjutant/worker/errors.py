"""koji's BuildError for the steps ``adjutant build`` shares with the worker, made
without importing koji up front.

A task tells the hub why it failed through koji's exceptions (``BaseTaskHandler`` turns
them into the task's fault), so the shared steps raise ``koji.BuildError``. A local build
with no hub never talks to one, and koji's import (requests, gssapi) would be about a
tenth of a second of its start; koji is imported here on the first error instead.
"""

from __future__ import annotations


def build_error(message: str) -> Exception:
    """``koji.BuildError(message)``, to raise."""
    import koji

    error: Exception = koji.BuildError(message)
    return error
