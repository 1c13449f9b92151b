#!/usr/bin/env bash
# Build the worker's own container image (packaging/container/Containerfile) with podman:
# the koji_adjutant wheel from this checkout plus the wheels it needs, installed into a
# virtualenv in an image FROM the local default buildroot image (no registry needed).
# An image built from the same inputs (sources, Containerfile, base image) is reused.
#
#   scripts/build-worker-image.sh [--tag REF] [--base REF] [--docker] [--force]
#
#   --tag REF   image to make             (default: localhost/koji-adjutant-worker:latest)
#   --base REF  image to build FROM       (default: localhost/adjutant-buildroot:bookworm,
#                                          made by 'adjutant image build-default' if missing)
#   --docker    also load the image into docker (podman save | docker load)
#   --force     rebuild even when an up-to-date image exists
#
# Environment: ADJUTANT_PYTHON, the Python whose pip builds the wheels (default: the
# checkout's .venv, else python3); it needs pip and network access to PyPI (or a pip
# cache holding the pinned versions). Prints the image reference on stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self=$here/scripts/$(basename "${BASH_SOURCE[0]}")
tag=localhost/koji-adjutant-worker:latest
base=localhost/adjutant-buildroot:bookworm
to_docker=false
force=false
while [ $# -gt 0 ]; do
    case "$1" in
        --tag) tag=$2; shift 2 ;;
        --base) base=$2; shift 2 ;;
        --docker) to_docker=true; shift ;;
        --force) force=true; shift ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "build-worker-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
python=${ADJUTANT_PYTHON:-}
if [ -z "$python" ]; then
    if [ -x "$here/.venv/bin/python" ]; then python=$here/.venv/bin/python; else python=python3; fi
fi
log() { printf '[worker-image] %s\n' "$*" >&2; }
LABEL=io.koji-adjutant.worker-inputs

if ! podman image exists "$base"; then
    if [ "$base" = localhost/adjutant-buildroot:bookworm ] && [ -x "$here/.venv/bin/adjutant" ]; then
        log "building the base image $base"
        "$here/.venv/bin/adjutant" image build-default --runtime podman >&2
    else
        log "base image $base does not exist in podman"; exit 1
    fi
fi

# -- inputs: what the image is made of; the same inputs give the same image -------------
cd "$here"
# Every package of the distribution: the core and each adjutant_* plugin package.
paths=(pyproject.toml README.md adjutant adjutant_*/ packaging/container)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t sources < <(git ls-files -co --exclude-standard -- "${paths[@]}" | sort)
else  # an unpacked source tarball
    mapfile -t sources < <(find "${paths[@]}" -type f ! -path '*/__pycache__/*' | sort)
fi
inputs=$( {
    for f in "${sources[@]}"; do [ -f "$f" ] && sha256sum -- "$f"; done
    sha256sum -- "$self"
    podman image inspect --format '{{.Id}}' "$base"
    "$python" -c 'import sys; print(sys.version_info[:2])'
} | sha256sum | cut -c1-32)

current() { # $1: podman or docker
    "$1" image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$tag" 2>/dev/null || true
}

if $force || [ "$(current podman)" != "$inputs" ]; then
    started=$(date +%s)
    work=$(mktemp -d "${TMPDIR:-/tmp}/adjutant-worker-image.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    # Build the wheel from a copy of exactly the hashed files: no stale build/ directory
    # of the checkout can slip into it, and the checkout is left untouched.
    mkdir -p "$work/src" "$work/context/wheels"
    tar -cf - -- "${sources[@]}" | tar -xf - -C "$work/src"
    cp packaging/container/Containerfile "$work/context/"
    pip=("$python" -m pip --disable-pip-version-check -q)
    isolation=()
    "$python" -c 'import setuptools, wheel' 2>/dev/null && isolation=(--no-build-isolation)
    log "building the koji_adjutant wheel"
    "${pip[@]}" wheel --no-deps "${isolation[@]}" -w "$work/context/wheels" "$work/src"
    wheel=$(ls "$work/context/wheels"/koji_adjutant-*.whl)
    # The wheels it needs: its requirements with the podman and docker extras, koji's own
    # without requests-gssapi (it compiles against libkrb5; see the Containerfile), and pip.
    # Versions are pinned to those of the Python building them when it has them (the
    # checkout's .venv: what the tests ran with).
    mapfile -t reqs < <("$python" - "$wheel" <<'PY'
import sys, zipfile
from email.parser import Parser
from pip._vendor.packaging.requirements import Requirement

with zipfile.ZipFile(sys.argv[1]) as whl:
    meta = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
    headers = Parser().parsestr(whl.read(meta).decode())
for text in headers.get_all("Requires-Dist") or []:
    req = Requirement(text)
    if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in ("podman", "docker")):
        print(str(req).split(";")[0].strip())
PY
)
    constraints=$work/constraints.txt
    "${pip[@]}" freeze --all 2>/dev/null | grep -v -e '^-e ' -e '^koji-adjutant' -e ' @ ' \
        > "$constraints" || true
    log "collecting the wheels it needs: ${reqs[*]} pip"
    koji_req=()
    others=()
    for r in "${reqs[@]}"; do
        case "$r" in koji|koji[\<\>=!~]*) koji_req+=("$r") ;; *) others+=("$r") ;; esac
    done
    "${pip[@]}" wheel -c "$constraints" --no-deps -w "$work/context/wheels" "${koji_req[@]}" pip
    koji_deps=$("$python" - "$work/context/wheels" <<'PY'
import pathlib, sys, zipfile
from email.parser import Parser
from pip._vendor.packaging.requirements import Requirement

whl = next(pathlib.Path(sys.argv[1]).glob("koji-*.whl"))
with zipfile.ZipFile(whl) as z:
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    headers = Parser().parsestr(z.read(meta).decode())
for text in headers.get_all("Requires-Dist") or []:
    req = Requirement(text)
    if req.name != "requests-gssapi" and (req.marker is None or req.marker.evaluate()):
        print(str(req).split(";")[0].strip())
PY
)
    # shellcheck disable=SC2086  # koji_deps: one requirement per word
    "${pip[@]}" wheel -c "$constraints" -w "$work/context/wheels" "${others[@]}" $koji_deps
    log "building $tag FROM $base"
    previous=$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
    podman build --quiet --layers=false --network none --pull=never --build-arg "BASE=$base" \
        --label "$LABEL=$inputs" -t "$tag" -f "$work/context/Containerfile" \
        "$work/context" >/dev/null
    # The image this one replaces would stay behind untagged; a container still using it
    # keeps it (the removal then fails, harmlessly).
    if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$tag")" ]; then
        podman rmi "$previous" >/dev/null 2>&1 || true
    fi
    log "built $tag in $(( $(date +%s) - started )) s"
else
    log "$tag is up to date"
fi

if $to_docker && [ "$(current docker)" != "$inputs" ]; then
    log "loading $tag into docker"
    podman save --format docker-archive "$tag" | docker load >/dev/null
fi
echo "$tag"
