"""Choosing the task's image: a site plugin, else the tag's hub policy, else the config."""

from __future__ import annotations

from dataclasses import dataclass

import koji

from adjutant.container.errors import ContainerError
from adjutant.image.availability import PullPolicy, ensure_image
from adjutant.plugin.types import ImageChoice, ImageRequest
from adjutant.policy.errors import PolicyError, PolicyUnavailable
from adjutant.worker.context import TaskContext


@dataclass(frozen=True)
class TaskImage:
    """The image a task runs in: what was chosen (and why), and its local image id."""

    choice: ImageChoice
    image_id: str

    @property
    def ref(self) -> str:
        return self.choice.image


def choose_image(ctx: TaskContext) -> TaskImage:
    """Ask ``adjutant_resolve_image``, then make sure the image is here (pulled as
    ``image_pull_policy`` allows). A malformed or unreadable policy, or an image that
    cannot be had, fails the task saying so."""
    request = ImageRequest(method=ctx.method, arch=ctx.arch, tag=ctx.tag, task_id=ctx.task_id,
                           build_config=ctx.build_config, session=ctx.session,
                           settings=ctx.settings.adjutant_settings)
    try:
        choice = ctx.plugins.resolve_image(request)
    except (PolicyError, PolicyUnavailable) as exc:
        raise koji.BuildError(f"cannot choose the container image: {exc}") from exc
    if choice is None:
        choice = ImageChoice(ctx.settings.task_image_default, "config task_image_default")
    return TaskImage(choice, local_image(ctx, choice.image))


def local_image(ctx: TaskContext, ref: str) -> str:
    """The image id of ``ref``, pulled as ``image_pull_policy`` allows; BuildError if not."""
    try:
        return ensure_image(ctx.runtime, ref, PullPolicy(ctx.settings.image_pull_policy),
                            float(ctx.settings.container_timeouts["pull"]))
    except ContainerError as exc:
        raise koji.BuildError(f"cannot get container image: {exc}") from exc
