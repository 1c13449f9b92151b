"""Task handlers: one koji.tasks.BaseTaskHandler subclass per task method."""

from adjutant.worker.handlers.build import BuildTask
from adjutant.worker.handlers.build_arch import BuildArchTask
from adjutant.worker.handlers.createrepo import CreaterepoTask
from adjutant.worker.handlers.rebuild_srpm import RebuildSRPMTask
from adjutant.worker.handlers.tag_build import TagBuildTask

HANDLERS = (BuildTask, BuildArchTask, RebuildSRPMTask, CreaterepoTask, TagBuildTask)

__all__ = ["HANDLERS", "BuildArchTask", "BuildTask", "CreaterepoTask", "RebuildSRPMTask",
           "TagBuildTask"]
