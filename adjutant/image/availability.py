"""Making sure a task's image is present, according to the pull policy."""

from __future__ import annotations

import enum
import logging

from adjutant.container.errors import ImageUnavailable
from adjutant.container.runtime import ContainerRuntime
from adjutant.image.default import default_image_arch, ensure_default_image

log = logging.getLogger(__name__)


class PullPolicy(enum.Enum):
    """``image_pull_policy``: when to contact the registry."""

    ALWAYS = "always"
    IF_NOT_PRESENT = "if-not-present"
    NEVER = "never"

    @classmethod
    def parse(cls, value: str) -> PullPolicy:
        try:
            return cls(value.strip().lower())
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise ValueError(f"image_pull_policy {value!r} is not one of {choices}") from None


def ensure_image(
    runtime: ContainerRuntime,
    ref: str,
    policy: PullPolicy = PullPolicy.IF_NOT_PRESENT,
    pull_timeout: float = 300.0,
    platform: str | None = None,
) -> str:
    """Return the image id of ``ref`` in ``runtime``, pulling it if the policy allows
    (``platform``'s image of a multi-arch ref, when given).

    The project's default images (one per arch) are never pulled: they are built locally
    (see ``adjutant.image.default``). Raises ``ImageUnavailable`` naming the image
    otherwise.
    """
    default_arch = default_image_arch(ref)
    if default_arch is not None:
        return ensure_default_image(runtime, ref, arch=default_arch)
    present = runtime.image_id(ref)
    if policy is PullPolicy.NEVER:
        if present is None:
            raise ImageUnavailable(ref, "not present locally and image_pull_policy is 'never'")
        return present
    if present is not None and policy is PullPolicy.IF_NOT_PRESENT:
        return present
    log.info("pulling %s (policy %s, timeout %ss)", ref, policy.value, pull_timeout)
    return runtime.pull(ref, pull_timeout, platform)
