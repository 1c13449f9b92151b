"""kojid's use_common: allowed_scms asks for the repository's common/ module, checked out
beside the package's and reachable as ../common from the module dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import koji
import pytest

from tests.e2e.test_worker_scm import SPEC, serve_git_repo
from tests.support.fakehub import FakeHub
from tests.support.kojisetup import wait_task
from tests.support.worker import WorkerProcess

StartWorker = Callable[..., WorkerProcess]

WITH_COMMON = "127.0.0.1*:/kojifiles/scm/*:yes:make,sources"
# The package's Makefile has nothing of its own: `make sources` comes from common/.
COMMON_MAKEFILE = "sources:\n\tprintf '#!/bin/sh\\necho hello from common\\n' > hello.sh\n"
PACKAGE_MAKEFILE = "include ../common/Makefile.common\n"


@pytest.mark.parametrize("module", ["", "rpms/scm-hello"])
def test_use_common_checks_out_common_beside_the_module(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path, start_worker: StartWorker,
        module: str) -> None:
    prefix = f"{module}/" if module else ""
    serve_git_repo(hub, tmp_path, "common", {"Makefile.common": COMMON_MAKEFILE})
    url = serve_git_repo(hub, tmp_path, "scm-hello", {f"{prefix}scm-hello.spec": SPEC,
                                                      f"{prefix}Makefile": PACKAGE_MAKEFILE})
    source = url("main").replace("#", f"?{module}#") if module else url("main")
    task_id = hub.make_task("buildSRPMFromSCM", [source, build_tag["name"],
                                                 {"repo_id": build_tag["repo_id"]}])
    # A host name of its own: a worker of the same name elsewhere on this machine would
    # remove this one's containers as its own leftovers.
    worker = start_worker(host="commoner1", kojid={"allowed_scms": WITH_COMMON},
                          adjutant={"scm_network": "host"})
    assert wait_task(hub, task_id, timeout=180)["state_name"] == "CLOSED", worker.log()[-4000:]
    checkout_log = hub.work_path(
        f"{koji.pathinfo.taskrelpath(task_id)}/checkout.log").read_text()
    assert f"git clone --quiet http://127.0.0.1:{hub.port}/kojifiles/scm/common.git " \
        "/checkout/common" in checkout_log
    assert ("ln -s" in checkout_log) == bool(module)  # a link only below a module
    assert "$ make sources" in checkout_log
    assert hub.task_result(task_id)["srpm"].endswith("/scm-hello-2.0-1.src.rpm")


def test_a_missing_common_repository_fails_naming_it(
        hub: FakeHub, build_tag: dict[str, Any], tmp_path: Path,
        start_worker: StartWorker) -> None:
    url = serve_git_repo(hub, tmp_path, "scm-hello", {"scm-hello.spec": SPEC,
                                                      "Makefile": PACKAGE_MAKEFILE})
    task_id = hub.make_task("buildSRPMFromSCM", [url("main"), build_tag["name"],
                                                 {"repo_id": build_tag["repo_id"]}])
    start_worker(host="commoner1", kojid={"allowed_scms": WITH_COMMON},
                 adjutant={"scm_network": "host"})
    assert wait_task(hub, task_id, timeout=180)["state_name"] == "FAILED"
    with pytest.raises(koji.BuildError, match=r"git clone of the common repository "
                       r"http://127.0.0.1:\d+/kojifiles/scm/common.git failed \(allowed_scms "
                       r"asks for use_common\)"):
        hub.task_result(task_id)
