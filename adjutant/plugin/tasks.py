"""What a plugin's task handlers build on (``adjutant_task_handlers``): the handler base
classes and the steps the core's own pipelines are made of.

A handler subclasses :class:`ContainerTaskHandler` to run containers or
:class:`HubTaskHandler` for hub-only work, names its methods in ``Methods`` and
implements ``handler(...)`` with the task's parameters, as kojid's handlers do. It makes
its :class:`TaskContext` with ``self.context(arch, build_config)`` and runs steps over it:

- :func:`choose_image` (the image policy hooks) → :class:`TaskImage`
- :class:`HubBuildroot` and :func:`prepared_buildroot`: a buildroot from the tag's repo,
  recorded on the hub
- :func:`container_spec` / :func:`run_in_container`: one container with the task's
  labels, the site's mounts and limits, only the mounts given writable
- :func:`take_results`, :func:`upload`, :func:`upload_logs`: results out of a directory a
  container wrote (through :class:`UntrustedDir`, which follows no link), to the hub
- :func:`build_failure`: a BuildError naming the failing step with the log's last lines

Importing this module imports koji; ``adjutant.plugin`` itself stays light.
"""

from adjutant.build.rpmbuild import BUILD_USER
from adjutant.container.run import RunResult
from adjutant.container.spec import Mount
from adjutant.container.untrusted import UnsafeFile, UntrustedDir
from adjutant.worker.buildroot_record import HubBuildroot
from adjutant.worker.context import BUILD_UID, TaskContext, TaskLogs
from adjutant.worker.handlers.base import ContainerTaskHandler
from adjutant.worker.handlers.hubtask import HubTaskHandler
from adjutant.worker.steps.buildroot import Buildroot, prepared_buildroot
from adjutant.worker.steps.containers import container_spec, run_in_container
from adjutant.worker.steps.image import TaskImage, choose_image
from adjutant.worker.steps.results import take_results, upload, upload_logs
from adjutant.worker.steps.rpmbuild import build_failure

__all__ = [
    "BUILD_UID",
    "BUILD_USER",
    "Buildroot",
    "ContainerTaskHandler",
    "HubBuildroot",
    "HubTaskHandler",
    "Mount",
    "RunResult",
    "TaskContext",
    "TaskImage",
    "TaskLogs",
    "UnsafeFile",
    "UntrustedDir",
    "build_failure",
    "choose_image",
    "container_spec",
    "prepared_buildroot",
    "run_in_container",
    "take_results",
    "upload",
    "upload_logs",
]
