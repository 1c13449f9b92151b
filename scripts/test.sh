#!/usr/bin/env bash
# Run the whole test suite on real engines, from a fresh machine: installs podman, docker,
# the rpm tools, qemu-user and the virtualenv if needed, builds the buildroot image once and
# imports it into both engines, builds the aarch64 one for podman, checks the code with ruff
# and mypy (strict), then runs pytest.
# Extra arguments go to pytest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$here/scripts/setup-host.sh"
for runtime in podman docker; do
    "$here/.venv/bin/adjutant" image build-default --runtime "$runtime"
done
# The emulated-arch tests build in it (under qemu-user: several minutes, once per recipe).
"$here/.venv/bin/adjutant" image build-default --runtime podman --arch aarch64
cd "$here"
"$here/.venv/bin/ruff" check adjutant adjutant_podman adjutant_docker adjutant_git tests bench \
    noxfile.py
"$here/.venv/bin/mypy"
exec "$here/.venv/bin/pytest" "$@"
