#!/bin/sh
# Prepare a buildroot inside its container, as root, from the koji repo only.
#   $1  directory for the package lists (base.tsv, group.tsv, final.tsv) and the
#       buildroot's inventory (inventory.sh's files)
#   $2  comma-separated comps groups to install ("build" or "srpm-build"; may be empty)
#   $3… requirements to install (an SRPM's BuildRequires, e.g. "foo >= 1.2")
# or, as "install.sh --makecache DIR", only fill DIR with the package manager's cache of
# the repos' metadata (adjutant/buildroot/repometa.py): nothing is installed.
# The repo file is mounted in /etc/adjutant/repos; no other repo is enabled.
# The build tag's mock.* settings arrive checked (adjutant/worker/tagsettings.py) in:
#   ADJUTANT_PACKAGE_MANAGER  dnf, dnf5, yum or microdnf (default: the first the image has)
#   ADJUTANT_PM_OPTS          further package manager options (--releasever=, best)
#   ADJUTANT_MODULE_SETUP     lines "command module..." run as "<pm> module ..." first
# and, from the worker:
#   ADJUTANT_REPO_CACHE       this host's cache of the repos' metadata (mounted read-only):
#                             the package manager starts from a copy of it
#   ADJUTANT_REPO_IMMUTABLE   set when the koji repo is a Koji repo id, whose content never
#                             changes: its cached metadata never expires
set -eu
if [ "${1:-}" = --makecache ]; then
    makecache=$2
    shift 2
else
    makecache=
    out=$1
    groups=$2
    shift 2
fi
qf='%{NAME}\t%{VERSION}\t%{RELEASE}\t%{EPOCH}\t%{ARCH}\t%{SIGMD5}\t%{SIZE}\t%{BUILDTIME}\n'

opts="-y --setopt=reposdir=/etc/adjutant/repos --setopt=install_weak_deps=False --setopt=tsflags=nodocs ${ADJUTANT_PM_OPTS:-}"
[ -n "$makecache" ] || rpm -qa --qf "$qf" > "$out/base.tsv"
wanted=${ADJUTANT_PACKAGE_MANAGER:-}
if [ -n "$wanted" ] && ! command -v "$wanted" >/dev/null 2>&1; then
    echo "adjutant: the build tag asks for $wanted (mock.package_manager) but the image has no $wanted" >&2
    exit 70
fi
if [ -n "$wanted" ] && [ "$wanted" != microdnf ]; then pm=$wanted
elif [ -z "$wanted" ] && command -v dnf >/dev/null 2>&1; then pm=dnf
elif [ -z "$wanted" ] && command -v yum >/dev/null 2>&1; then pm=yum
elif command -v microdnf >/dev/null 2>&1; then
    if [ -n "$makecache" ]; then
        echo "adjutant: the image has only microdnf; its installs read the repos themselves"
        exit 0
    fi
    # microdnf has no comps groups: bootstrap dnf from the tag's repo first (a minimal
    # distribution image ships only microdnf; build tags carry dnf).
    echo "adjutant: microdnf has no comps groups; installing dnf from the repo with it"
    if ! microdnf $opts install dnf; then
        echo "adjutant: the image has only microdnf, which cannot install comps groups, and dnf could not be installed from the repo" >&2
        exit 70
    fi
    pm=dnf
else
    echo "adjutant: the image has no dnf, yum or microdnf, so no buildroot can be installed in it" >&2
    exit 70
fi

# The cache directory options of $1 for directory $2 (dnf5 keeps root's cache apart).
cache_opts() {
    case $1 in
        dnf5) echo "--setopt=system_cachedir=$2 --setopt=cachedir=$2" ;;
        *) echo "--setopt=cachedir=$2" ;;
    esac
}
if [ -n "$makecache" ]; then
    # shellcheck disable=SC2046 # options, one word each
    exec $pm $opts $(cache_opts "$pm" "$makecache") makecache
fi
cache=/var/tmp/adjutant-pm-cache
own_cache=
rm -rf "$cache"
if [ -n "${ADJUTANT_REPO_CACHE:-}" ]; then
    # A copy: the scriptlets that run below must not change what later installs read.
    # It fails when the host pruned the entry meanwhile; then the repos are read anew.
    if mkdir -p "$cache" && cp -a "$ADJUTANT_REPO_CACHE/." "$cache/" 2>/dev/null; then
        opts="$opts $(cache_opts "$pm" "$cache")"
        own_cache=1
        echo "adjutant: starting from this host's cached metadata of the repos"
        if [ -n "${ADJUTANT_REPO_IMMUTABLE:-}" ]; then
            opts="$opts --setopt=koji.metadata_expire=-1"
        fi
    else
        rm -rf "$cache"
        echo "adjutant: this host's cached repo metadata could not be copied; $pm reads the repos itself"
    fi
fi

if [ -n "${ADJUTANT_MODULE_SETUP:-}" ]; then
    echo "$ADJUTANT_MODULE_SETUP" | while read -r command modules; do
        echo "adjutant: $pm module $command $modules (mock.module_setup_commands)"
        # shellcheck disable=SC2086 # the modules are checked names, one word each
        $pm $opts module "$command" $modules
    done
fi
old_ifs=$IFS
IFS=,
for group in $groups; do
    IFS=$old_ifs
    echo "adjutant: installing group $group"
    $pm $opts group install -- "$group"
done
IFS=$old_ifs
rpm -qa --qf "$qf" > "$out/group.tsv"
if [ $# -gt 0 ]; then
    echo "adjutant: installing build requirements: $*"
    $pm $opts install -- "$@"
fi
rpm -qa --qf "$qf" > "$out/final.tsv"
# What the package manager cached stays out of the buildroot image. In a cache directory
# of ours it is all there; removing it spares a third start of the package manager
# (a quarter of a second and more).
[ -n "$own_cache" ] || $pm $opts clean all >/dev/null 2>&1 || true
rm -rf "$cache"
# The SBOM's inventory of what the buildroot now holds (mounted beside this script).
sh "$(dirname "$0")/inventory.sh" "$out"
