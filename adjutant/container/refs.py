"""Image references (shared by the runtime plugins)."""

from __future__ import annotations


def split_ref(ref: str) -> tuple[str, str]:
    """``repo[:tag]`` → (repo, tag), tag ``latest`` when absent; a registry port's colon
    (``host:5000/name``) is not a tag separator."""
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = ref.rpartition(":")
        return repo, tag
    return ref, "latest"
