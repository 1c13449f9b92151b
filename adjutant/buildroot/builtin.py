"""The fallback buildroot plan: use the base image; install with dnf when there is a repo."""

from __future__ import annotations

from adjutant.container.runtime import ContainerRuntime
from adjutant.plugin import BuildrootPlan, BuildrootRequest, hookimpl


@hookimpl(trylast=True)
def adjutant_prepare_buildroot(
    request: BuildrootRequest, runtime: ContainerRuntime
) -> BuildrootPlan:
    if request.repo_url is None:
        return BuildrootPlan(image=request.base_image, install=False,
                             note="no repo: the image is used as it is")
    return BuildrootPlan(image=request.base_image, install=True,
                         note="installing from the tag's repo")
