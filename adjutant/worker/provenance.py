"""The first lines of root.log: which image a task ran in, and why."""

from __future__ import annotations

from adjutant.logs.fanout import TaskLog
from adjutant.plugin.types import ImageChoice


def write_provenance(log: TaskLog, choice: ImageChoice, image_id: str, runtime: str) -> None:
    log.line(f"image: {choice.image}")
    log.line(f"image id: {image_id}")
    log.line(f"image chosen by: {choice.source}")
    log.line(f"container runtime: {runtime}")
