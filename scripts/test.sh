#!/usr/bin/env bash
# Run the whole test suite on real engines, from a fresh machine: installs podman, docker,
# the rpm tools and the virtualenv if needed, builds the buildroot image once and imports
# it into both engines, then runs pytest. Extra arguments go to pytest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$here/scripts/setup-host.sh"
for runtime in podman docker; do
    "$here/.venv/bin/adjutant" image build-default --runtime "$runtime"
done
cd "$here"
exec "$here/.venv/bin/pytest" "$@"
