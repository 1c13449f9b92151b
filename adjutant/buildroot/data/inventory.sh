#!/bin/sh
# Take the inventory of the filesystem this runs in (a buildroot), for its SBOM.
#   $1  directory to write into:
#       rpm.tsv       one line per rpm: name epoch version release arch sigmd5 sha256header
#       deb.tsv       one line per dpkg package: status package version arch
#       deb-sums.txt  sha256sum of each package's /var/lib/dpkg/info/*.md5sums manifest
#       tools.txt     "rpm <version>" and "<package manager> <version>" lines
# Everything written here is read on the host as hostile input (adjutant/sbom/inventory.py).
set -u
out=$1
if command -v rpm >/dev/null 2>&1; then
    rpm -qa --qf '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SIGMD5}\t%{SHA256HEADER}\n' \
        > "$out/rpm.tsv" 2>/dev/null || : > "$out/rpm.tsv"
    printf 'rpm\t%s\n' "$(rpm --version 2>/dev/null | head -n1)" > "$out/tools.txt"
else
    : > "$out/rpm.tsv"
    : > "$out/tools.txt"
fi
if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f '${db:Status-Abbrev}\t${binary:Package}\t${Version}\t${Architecture}\n' \
        > "$out/deb.tsv" 2>/dev/null || : > "$out/deb.tsv"
    (cd /var/lib/dpkg/info 2>/dev/null && sha256sum -- *.md5sums 2>/dev/null) \
        > "$out/deb-sums.txt" || : > "$out/deb-sums.txt"
else
    : > "$out/deb.tsv"
    : > "$out/deb-sums.txt"
fi
for pm in dnf5 dnf yum microdnf; do
    if command -v "$pm" >/dev/null 2>&1; then
        printf '%s\t%s\n' "$pm" "$("$pm" --version 2>/dev/null | head -n1)" >> "$out/tools.txt"
    fi
done
exit 0
