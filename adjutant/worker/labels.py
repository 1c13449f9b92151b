"""Labels on the worker's containers: how it finds its own after a cancel or a crash."""

from __future__ import annotations

from collections.abc import Mapping

HOST_LABEL = "io.koji-adjutant.host"
TASK_LABEL = "io.koji-adjutant.task"


def task_labels(host: str, task_id: int, extra: Mapping[str, str] | None = None) \
        -> dict[str, str]:
    """Labels for a container of ``task_id`` run by the worker of build host ``host``."""
    return {**(extra or {}), HOST_LABEL: host, TASK_LABEL: str(task_id)}


def host_selector(host: str) -> dict[str, str]:
    return {HOST_LABEL: host}


def task_selector(host: str, task_id: int) -> dict[str, str]:
    return {HOST_LABEL: host, TASK_LABEL: str(task_id)}
