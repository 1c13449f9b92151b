#!/usr/bin/env bash
# Prepare a Debian 12 machine to run koji-adjutant and its tests: container engines
# (podman over runc, dockerd), their API sockets, the rpm tools and a Python venv.
# Idempotent: every step checks before it acts, so a second run takes about a second.
#
# Environment:
#   ADJUTANT_VENV      virtualenv to create/use            (default: .venv in the checkout)
#   ADJUTANT_ENGINES   engines to prepare: "podman docker"  (default: both)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${ADJUTANT_VENV:-$here/.venv}
engines=${ADJUTANT_ENGINES:-podman docker}
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"

log() { printf '[setup] %s\n' "$*" >&2; }

# -- Debian packages ---------------------------------------------------------------------
need=()
for pkg in podman runc docker.io mmdebstrap rpm createrepo-c uidmap python3-venv git tmux libkrb5-dev gcc \
           systemd qemu-user-static binfmt-support arch-test; do  # systemd: systemd-analyze checks the shipped unit (no PID 1 needed); arch-test: mmdebstrap of a foreign arch
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing Debian packages: ${need[*]}"
    $as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# -- foreign arches: qemu-user through binfmt_misc (emulated_arches, build-default --arch)
# qemu-user-static's handlers carry the F flag, so containers need no qemu inside them.
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ]; then
    log "mounting binfmt_misc"
    $as_root mount -t binfmt_misc binfmt_misc "$binfmt"
fi
if [ ! -e "$binfmt/qemu-aarch64" ]; then
    log "registering the qemu-user handlers"
    $as_root update-binfmts --enable >/dev/null
fi

# -- podman: runc (crun fails on hybrid cgroups here) and rlimits podman may grant -------
conf=/etc/containers/containers.conf.d/50-adjutant.conf
# A container's hard rlimits may not exceed the podman process's (no CAP_SYS_RESOURCE in
# this VM); podman itself caps nproc at 32768.
nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
{ [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; } && nofile=1048576
{ [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
want=$(printf '[engine]\nruntime = "runc"\n\n[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' \
    "$nofile" "$nofile" "$nproc" "$nproc")
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
    log "writing $conf"
    pkill -f "podman system service" 2>/dev/null || true
    $as_root mkdir -p "$(dirname "$conf")"
    printf '%s\n' "$want" | $as_root tee "$conf" >/dev/null
fi

socket_alive() { python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
try:
    s.connect(sys.argv[1]); s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
    sys.exit(0 if b"200" in s.recv(64) else 1)
except OSError:
    sys.exit(1)
PY
}

wait_socket() {
    for _ in $(seq 1 100); do socket_alive "$1" && return 0; sleep 0.1; done
    log "engine socket $1 did not answer; see $2"; cat "$2" >&2 || true; return 1
}

case " $engines " in *" podman "*)
    if ! socket_alive /run/podman/podman.sock; then
        log "starting the podman API service"
        $as_root mkdir -p /run/podman
        # From /, not from this checkout: the service and every conmon it starts keep
        # their working directory, and a deleted one breaks every later container start.
        # exec with the output redirected: nothing keeps this script's stdout open.
        (cd / && exec nohup $as_root podman system service --time=0 \
            unix:///run/podman/podman.sock >/var/log/adjutant-podman-service.log 2>&1) &
        wait_socket /run/podman/podman.sock /var/log/adjutant-podman-service.log
    fi
esac

case " $engines " in *" docker "*)
    if ! socket_alive /var/run/docker.sock; then
        # A dockerd killed without cleanup (as at the end of a session) leaves its pid file,
        # which stops the next one from starting; one that is there but silent is stopped.
        pidfile=/var/run/adjutant-dockerd.pid
        if [ -f "$pidfile" ]; then
            old=$(cat "$pidfile" 2>/dev/null || true)
            if [ -n "$old" ] && [ "$(cat "/proc/$old/comm" 2>/dev/null)" = dockerd ]; then
                log "dockerd (pid $old) does not answer; stopping it"
                $as_root kill "$old" || true
                sleep 3
            fi
            $as_root rm -f "$pidfile"
        fi
        log "starting dockerd"
        # No service manager here (policy-rc.d blocks service starts): run it by hand.
        (cd / && exec nohup $as_root dockerd --pidfile /var/run/adjutant-dockerd.pid \
            >/var/log/adjutant-dockerd.log 2>&1) &
        wait_socket /var/run/docker.sock /var/log/adjutant-dockerd.log
    fi
esac

# -- Python environment --------------------------------------------------------------------
if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv"
    python3 -m venv "$venv"
fi
stamp="$venv/.adjutant-installed"
if [ ! -f "$stamp" ] || [ "$here/pyproject.toml" -nt "$stamp" ]; then
    log "installing koji-adjutant into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -e "$here[podman,docker,dev]"
    touch "$stamp"
fi
# An editable install is not byte-compiled (a wheel install is), and where
# PYTHONDONTWRITEBYTECODE is set nothing ever writes the .pyc files: every adjutant
# command would then compile the project from source, ~12 ms each start. Up-to-date
# files are skipped, so this is quick after the first run.
"$venv/bin/python" -m compileall -q -j 0 "$here/adjutant" "$here/adjutant_podman" \
    "$here/adjutant_docker" "$here/adjutant_git" >/dev/null
