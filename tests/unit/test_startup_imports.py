"""``adjutant build`` with no hub must not import koji (nor the other engine's SDK).

koji's import (requests' gssapi auth among it) is about a tenth of a second of a local
build's start; the build path reaches it only through a module that imports it at the
top. This checks the modules a local build loads, in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import sys
import adjutant.cli.main, adjutant.cli.build_run, adjutant.cli.build_setup
import adjutant.build.packager, adjutant.build.sbom, adjutant.build.local
import adjutant.worker.steps.buildroot, adjutant.worker.inventory
from adjutant.plugin.manager import load_plugins
plugins = load_plugins()
plugins.config_options()
print(' '.join(sorted(m for m in ('koji', 'docker') if m in sys.modules)))
"""


def test_the_local_build_path_imports_neither_koji_nor_docker() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "", f"imported at start: {done.stdout.strip()}"


def test_a_worker_error_from_the_shared_steps_is_kojis_build_error() -> None:
    import koji

    from adjutant.worker.errors import build_error

    assert isinstance(build_error("no"), koji.BuildError)


#: What handing a build to a build server may load: the point is to load nothing.
CLIENT_PROGRAM = """
import sys
before = set(sys.modules)
import adjutant.cli.console
from adjutant.buildserver.client import served
from adjutant.buildserver.wire import request_for
request_for("build", ("build", "x")).encode()
print(' '.join(sorted(set(sys.modules) - before)))
"""
CLIENT_MAY_LOAD = {"adjutant", "adjutant.cli", "adjutant.cli.console", "adjutant.buildserver",
                   "adjutant.buildserver.client", "adjutant.buildserver.wire", "_socket",
                   "_signal", "resource", "gc", "__future__"}


def test_handing_a_build_to_a_server_loads_only_built_in_modules() -> None:
    done = subprocess.run([sys.executable, "-c", CLIENT_PROGRAM], capture_output=True,
                          text=True, check=True)
    loaded = set(done.stdout.split())
    assert "adjutant.buildserver.client" in loaded
    assert loaded <= CLIENT_MAY_LOAD, f"also loaded: {sorted(loaded - CLIENT_MAY_LOAD)}"
