"""Errors raised by container runtimes, each carrying what to do about it."""


class ContainerError(Exception):
    """A container operation failed; the message says which and why."""


class EngineTimeout(ContainerError):
    """An engine call got no answer within its bound; the engine is probably hung."""


class EngineUnavailable(ContainerError):
    """The configured engine cannot be reached. The message says how to install or start it."""


class ImageUnavailable(ContainerError):
    """An image is not present locally and could not be pulled (or pulling is disallowed)."""

    def __init__(self, image: str, reason: str) -> None:
        super().__init__(f"image {image!r} is not available: {reason}")
        self.image = image
        self.reason = reason
