"""An example site plugin: build images chosen by a site rule, ahead of the hub policy.

Configure it in the worker's ``[adjutant]`` section::

    site_image_map = site-*=registry.example/site-builder:2 legacy-*=registry.example/el7:1

Each ``TAG_PATTERN=IMAGE`` pair is tried in order against the task's tag; the first match
decides. A tag no pattern matches gets None, which lets the built-in resolver (the tag's
hub policy, then ``task_image_default``) answer.
"""

from __future__ import annotations

import fnmatch

from adjutant.plugin import ConfigOption, ImageChoice, ImageRequest, hookimpl


@hookimpl
def adjutant_config_options() -> list[ConfigOption]:
    return [ConfigOption("site_image_map", "site-*=localhost/adjutant-buildroot:bookworm",
                         "space-separated TAG_PATTERN=IMAGE pairs; first match wins")]


@hookimpl
def adjutant_resolve_image(request: ImageRequest) -> ImageChoice | None:
    if request.tag is None:
        return None
    mapping = request.settings.get("site_image_map", "")
    for pair in mapping.split():
        pattern, _, image = pair.partition("=")
        if image and fnmatch.fnmatchcase(request.tag, pattern):
            return ImageChoice(image, f"site plugin adjutant-site-image-policy: {pattern}",
                               {"pattern": pattern, "image": image})
    return None
