#!/usr/bin/env bash
# Build the example package in a container, from a fresh machine: installs the engines and
# the virtualenv if needed, builds the default buildroot image if needed, then runs
# `adjutant build`. RPMs, SRPM and build.log land in ./out (or $1).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$here/out}
runtime=${ADJUTANT_RUNTIME:-podman}
ADJUTANT_ENGINES=$runtime "$here/scripts/setup-host.sh"
"$here/.venv/bin/adjutant" image build-default --runtime "$runtime"
exec "$here/.venv/bin/adjutant" build "$here/examples/hello/adjutant-hello.spec" -o "$out" \
    --runtime "$runtime"
