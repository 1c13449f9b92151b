"""Implements every hook and records each call (hook, pid, arguments in short) as a JSON
line in ``$ADJUTANT_TEST_RECORD``. Decision hooks answer None, registration hooks offer
nothing, so the worker behaves as without it.

With ``$ADJUTANT_TEST_SITE_BUILDROOT`` set, it also replaces the buildroot preparation the
way a site would: under the core's key lock it makes the buildroot image once (a tag of
the base image), counting in that file how often it did, and sleeping a little so that
two tasks that need the same buildroot overlap."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from adjutant.plugin import BuildrootPlan, KeyLock, hookimpl


def _record(hook: str, **fields: Any) -> None:
    path = os.environ.get("ADJUTANT_TEST_RECORD")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"hook": hook, "pid": os.getpid(), "time": time.time(),
                                 **fields}, default=str) + "\n")


@hookimpl
def adjutant_config_options() -> list[Any]:
    _record("adjutant_config_options")
    return []


@hookimpl
def adjutant_container_runtimes() -> list[Any]:
    _record("adjutant_container_runtimes")
    return []


@hookimpl
def adjutant_scm_fetchers() -> list[Any]:
    _record("adjutant_scm_fetchers")
    return []


@hookimpl
def adjutant_log_sinks() -> list[Any]:
    _record("adjutant_log_sinks")
    return []


@hookimpl
def adjutant_task_handlers() -> list[Any]:
    _record("adjutant_task_handlers")
    return []


@hookimpl
def adjutant_resolve_image(request: Any) -> None:
    _record("adjutant_resolve_image", task=request.task_id, arch=request.arch,
            tag=request.tag, method=request.method)


@hookimpl
def adjutant_prepare_buildroot(request: Any, runtime: Any, lock: KeyLock) -> Any:
    _record("adjutant_prepare_buildroot", key=request.key, lock_held=lock.held,
            groups=list(request.groups), packages=list(request.packages))
    counter = os.environ.get("ADJUTANT_TEST_SITE_BUILDROOT")
    if not counter:
        return None
    with lock:  # re-entrant: the core already holds it
        started = time.time()
        ref = f"localhost/adjutant-task-buildroot:site-{request.key[:16]}"
        made = False
        if runtime.image_id(ref) is None:
            time.sleep(2)  # a site's slow preparation: the other task must wait for it
            runtime.tag_image(request.base_image_id, ref)
            made = True
            with open(counter, "a") as fh:
                fh.write(f"{os.getpid()}\n")
        _record("site_buildroot", key=request.key, made=made, start=started, end=time.time())
    return BuildrootPlan(ref, install=False, note=f"site buildroot {ref}")


@hookimpl
def adjutant_task_started(task: Mapping[str, Any]) -> None:
    _record("adjutant_task_started", task=task["id"], method=task["method"])


@hookimpl
def adjutant_task_finished(task: Mapping[str, Any], result: Any) -> None:
    _record("adjutant_task_finished", task=task["id"], method=task["method"])


@hookimpl
def adjutant_task_failed(task: Mapping[str, Any], error: BaseException) -> None:
    _record("adjutant_task_failed", task=task["id"], method=task["method"], error=str(error))


@hookimpl
def adjutant_buildroot_ready(task: Mapping[str, Any], runtime: Any, buildroot: Any) -> None:
    _record("adjutant_buildroot_ready", task=task["id"], image=buildroot.image,
            runtime=runtime.name)


@hookimpl
def adjutant_results_collected(task: Mapping[str, Any], files: Sequence[str]) -> None:
    _record("adjutant_results_collected", task=task["id"],
            files=sorted(os.path.basename(f) for f in files))
