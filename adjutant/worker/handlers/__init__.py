"""Task handlers: one koji.tasks.BaseTaskHandler subclass per task method."""

from adjutant.worker.handlers.build_arch import BuildArchTask
from adjutant.worker.handlers.createrepo import CreaterepoTask
from adjutant.worker.handlers.rebuild_srpm import RebuildSRPMTask

HANDLERS = (BuildArchTask, RebuildSRPMTask, CreaterepoTask)

__all__ = ["HANDLERS", "BuildArchTask", "CreaterepoTask", "RebuildSRPMTask"]
