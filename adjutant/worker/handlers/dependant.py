"""``dependantTask(wait_list, task_list)``: wait for other tasks, then run subtasks.

koji's own handler (``koji.tasks.DependantTask``, the one kojid registers) does the work:
it polls ``taskFinished`` for each task of ``wait_list`` (they are not its children, so
``host.taskWait`` cannot be used), fails with "Dependency N failed to complete." when one
failed or was cancelled, then creates each ``[method, arglist(, opts)]`` of ``task_list``
as its subtask and waits for them all. Here it only gains adjutant's task process (the
observer hooks, the signals), from :class:`HubTaskHandler`.
"""

from __future__ import annotations

import koji.tasks

from adjutant.worker.handlers.hubtask import HubTaskHandler


class DependantTask(HubTaskHandler, koji.tasks.DependantTask):
    Methods = ["dependantTask"]
    _taskWeight = 0.2
