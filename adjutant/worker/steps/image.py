"""Choosing the task's image: a site plugin, else the tag's hub policy, else the config."""

from __future__ import annotations

from dataclasses import dataclass

from adjutant.container.errors import ContainerError
from adjutant.image.availability import PullPolicy, ensure_image
from adjutant.plugin.types import ImageChoice, ImageRequest
from adjutant.policy.errors import PolicyError, PolicyUnavailable
from adjutant.policy.resolver import config_default
from adjutant.worker.context import TaskContext
from adjutant.worker.errors import build_error


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
    cannot be had, fails the task saying so; so does an emulated task's image of another
    arch than the task's."""
    emulated = ctx.emulation is not None
    request = ImageRequest(method=ctx.method, arch=ctx.arch, tag=ctx.tag, task_id=ctx.task_id,
                           build_config=ctx.build_config, session=ctx.session,
                           settings=ctx.settings.adjutant_settings, emulated=emulated)
    try:
        choice = ctx.plugins.resolve_image(request)
    except (PolicyError, PolicyUnavailable) as exc:
        raise build_error(f"cannot choose the container image: {exc}") from exc
    if choice is None:
        choice = config_default(ctx.settings.adjutant_settings, ctx.arch, emulated)
    image = TaskImage(choice, local_image(ctx, choice.image))
    if ctx.emulation is not None:
        check_image_arch(ctx, image)
    return image


def local_image(ctx: TaskContext, ref: str) -> str:
    """The image id of ``ref``, pulled as ``image_pull_policy`` allows (an emulated task's
    platform of a multi-arch ref); BuildError if not."""
    platform = ctx.emulation.platform.platform if ctx.emulation else None
    try:
        return ensure_image(ctx.runtime, ref, PullPolicy(ctx.settings.image_pull_policy),
                            float(ctx.settings.container_timeouts["pull"]), platform)
    except ContainerError as exc:
        raise build_error(f"cannot get container image: {exc}") from exc


def check_image_arch(ctx: TaskContext, image: TaskImage) -> None:
    """An emulated task's image must be of the task's arch: a host-arch image would build
    host-arch RPMs and report them as the emulated arch's. BuildError naming both arches
    and where to name the right image."""
    assert ctx.emulation is not None
    want = ctx.emulation.platform.arch
    try:
        info = ctx.runtime.inspect_image(image.image_id)
    except ContainerError as exc:
        raise build_error(f"cannot inspect container image: {exc}") from exc
    found = info.arch if info else None
    if found != want:
        raise build_error(
            f"image {image.ref} ({image.choice.source}) is for {found or 'an unknown arch'}, "
            f"but this task builds {want} under emulation: name a {want} image in a "
            f"tag_arch rule of the tag's adjutant_image_policy or in [adjutant] "
            f"task_image_default_{want} (adjutant image build-default --arch {want} "
            "builds one)")
