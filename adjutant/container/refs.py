"""Image references (shared by the runtime plugins)."""

from __future__ import annotations

from collections.abc import Mapping


def split_ref(ref: str) -> tuple[str, str]:
    """``repo[:tag]`` → (repo, tag), tag ``latest`` when absent; a registry port's colon
    (``host:5000/name``) is not a tag separator."""
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = ref.rpartition(":")
        return repo, tag
    return ref, "latest"


def label_changes(labels: Mapping[str, str]) -> list[str]:
    """Image config changes (``LABEL k=v``) that set ``labels`` on an import or commit."""
    return [f"LABEL {k}={v}" for k, v in labels.items()]
