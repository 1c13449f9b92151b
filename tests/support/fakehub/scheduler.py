"""The assignment step of hub ≥ 1.34's task scheduler (protocol §3.4), deterministic.

One run: mark hosts not ready whose last ``updateHost`` is older than ``ReadyTimeout``; assign
FREE tasks (by priority, then age, then id) to hosts that serve the task's bin
``<channel_id>:<arch>`` (a host serves its channels x its arches + noarch), are enabled and
ready, run fewer than ``maxjobs`` OPEN/ASSIGNED tasks, have ``capacity - load >
max(0, weight - CapacityOvercommit)`` (load = weights of non-waiting active tasks) and hold no
live refusal for the task; then apply ``AssignTimeout`` and ``HostTimeout`` to tasks the
scheduler placed. Among eligible hosts the one with the lowest load + task count + demand
wins, ties to the lower host id.
"""

from dataclasses import dataclass

from .config import HubConfig
from .state import (
    TASK_ASSIGNED,
    TASK_FREE,
    TASK_OPEN,
    Host,
    HubDB,
    Refusal,
    Task,
    TaskRun,
)
from .taskops import free, lock


@dataclass
class _Slot:
    """A host's running totals during one run."""

    host: Host
    maxjobs: int
    load: float = 0.0
    ntasks: int = 0
    demand: float = 0.0

    @property
    def rank(self) -> float:
        return self.load + self.ntasks + self.demand

    def has_room(self, task: Task, overcommit: float) -> bool:
        min_avail = max(0.0, task.weight - overcommit)
        return self.ntasks < self.maxjobs and self.host.capacity - self.load > min_avail


def run(db: HubDB, config: HubConfig, now: float, force: bool = False) -> bool:
    """Run the scheduler unless it ran less than ``RunInterval`` ago (or ``force``).

    Returns whether it ran.
    """
    last = db.scheduler_last_run or 0.0
    if not force and now - last < config.RunInterval:
        return False
    db.scheduler_last_run = now
    active = [
        t for t in db.tasks.values()
        if t.state in (TASK_ASSIGNED, TASK_OPEN) and t.host_id is not None
    ]
    free_tasks = sorted(
        (t for t in db.tasks.values() if t.state == TASK_FREE),
        key=lambda t: (t.priority, t.create_ts, t.id),
    )
    slots = {
        h.id: _Slot(h, int((h.data or {}).get("maxjobs") or config.MaxJobs))
        for h in sorted(db.hosts.values(), key=lambda h: h.id)
        if h.enabled
    }
    _check_ready(slots, config, now)
    _schedule(db, config, now, slots, active, free_tasks)
    _check_active(db, config, now, slots, active)
    for task_run in db.task_runs:
        if task_run.active and db.tasks[task_run.task_id].state not in (TASK_ASSIGNED, TASK_OPEN):
            task_run.active = False
    return True


def _check_ready(slots: dict[int, _Slot], config: HubConfig, now: float) -> None:
    for slot in slots.values():
        host = slot.host
        if host.ready and (host.update_ts is None or now - host.update_ts > config.ReadyTimeout):
            host.ready = False


def _serves(host: Host, task: Task, db: HubDB) -> bool:
    return task.channel_id in host.channels and (
        task.arch == "noarch" or task.arch in host.arches
    ) and db.channels[task.channel_id].enabled


def live_refusals(db: HubDB, config: HubConfig, now: float) -> dict[int, set[int]]:
    """Refusing host ids by task id; drops lapsed soft refusals and those of ended tasks."""
    result: dict[int, set[int]] = {}
    for key, refusal in list(db.refusals.items()):
        task = db.tasks[refusal.task_id]
        lapsed = refusal.soft and refusal.ts < now - config.SoftRefusalTimeout
        if lapsed or task.state not in (TASK_FREE, TASK_OPEN, TASK_ASSIGNED):
            del db.refusals[key]
            continue
        result.setdefault(refusal.task_id, set()).add(refusal.host_id)
    return result


def _schedule(
    db: HubDB,
    config: HubConfig,
    now: float,
    slots: dict[int, _Slot],
    active: list[Task],
    free_tasks: list[Task],
) -> None:
    for task in active:
        slot = slots.get(task.host_id) if task.host_id is not None else None
        if slot is None:
            continue
        if not task.waiting:
            slot.load += task.weight
        slot.ntasks += 1
    refusals = live_refusals(db, config, now)
    candidates: dict[int, list[_Slot]] = {}
    for task in free_tasks:
        refused = refusals.get(task.id, set())
        options = [
            s for s in slots.values()
            if _serves(s.host, task, db)
            and s.host.ready
            and s.has_room(task, config.CapacityOvercommit)
            and s.host.id not in refused
        ]
        candidates[task.id] = options
        for slot in options:
            slot.demand += task.weight / len(options)
    total = sum(s.demand for s in slots.values())
    if total > 0:
        for slot in slots.values():
            slot.demand /= total
    for task in free_tasks:
        for slot in sorted(candidates[task.id], key=lambda s: (s.rank, s.host.id)):
            if slot.has_room(task, config.CapacityOvercommit):
                if lock(db, task, slot.host.id, TASK_ASSIGNED, now):
                    for old in db.task_runs:
                        if old.task_id == task.id:
                            old.active = False
                    db.task_runs.append(TaskRun(task.id, slot.host.id, now))
                    slot.load += task.weight
                    slot.ntasks += 1
                break


def _check_active(
    db: HubDB, config: HubConfig, now: float, slots: dict[int, _Slot], active: list[Task]
) -> None:
    for task in active:
        slot = slots.get(task.host_id) if task.host_id is not None else None
        if slot is None:
            continue
        runs = [r for r in db.task_runs if r.active and r.task_id == task.id]
        if not runs:
            continue  # opened straight from FREE or assigned by an admin: left alone
        host = slot.host
        first = min(r.create_ts for r in runs)
        if task.state == TASK_ASSIGNED:
            if now - first > config.AssignTimeout:
                if host.update_ts is not None and host.update_ts > first:
                    db.refusals[(task.id, host.id)] = Refusal(
                        task.id, host.id, soft=True, by_host=False,
                        msg="assignment timeout", ts=now,
                    )
                free(db, task, now)
        elif task.state == TASK_OPEN:
            since = host.update_ts if host.update_ts is not None else first
            if now - since > config.HostTimeout:
                free(db, task, now)
