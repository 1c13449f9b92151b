"""Task handlers: one koji.tasks.BaseTaskHandler subclass per task method."""

from adjutant.worker.handlers.build import BuildTask
from adjutant.worker.handlers.build_arch import BuildArchTask
from adjutant.worker.handlers.build_srpm_from_scm import BuildSRPMFromSCMTask
from adjutant.worker.handlers.chainbuild import ChainBuildTask
from adjutant.worker.handlers.createrepo import CreaterepoTask
from adjutant.worker.handlers.dependant import DependantTask
from adjutant.worker.handlers.dist_repo import CreateDistRepoTask, DistRepoTask
from adjutant.worker.handlers.notifications import BuildNotificationTask, TagNotificationTask
from adjutant.worker.handlers.rebuild_srpm import RebuildSRPMTask
from adjutant.worker.handlers.repos import NewRepoTask, WaitrepoTask
from adjutant.worker.handlers.save_failed_tree import SaveFailedTreeTask
from adjutant.worker.handlers.tag_build import TagBuildTask

HANDLERS = (BuildTask, BuildArchTask, BuildSRPMFromSCMTask, RebuildSRPMTask, CreaterepoTask,
            NewRepoTask, WaitrepoTask, TagBuildTask, TagNotificationTask,
            BuildNotificationTask, DependantTask, ChainBuildTask,
            DistRepoTask, CreateDistRepoTask, SaveFailedTreeTask)

__all__ = [
    "HANDLERS",
    "BuildArchTask",
    "BuildNotificationTask",
    "BuildSRPMFromSCMTask",
    "BuildTask",
    "ChainBuildTask",
    "CreateDistRepoTask",
    "CreaterepoTask",
    "DependantTask",
    "DistRepoTask",
    "NewRepoTask",
    "RebuildSRPMTask",
    "SaveFailedTreeTask",
    "TagBuildTask",
    "TagNotificationTask",
    "WaitrepoTask",
]
