#!/bin/sh
# mmdebstrap customize hook for the adjutant base image: $1 is the root filesystem,
# $2 the virtual-provides spec. Runs as root on the host; everything inside uses chroot.
set -eu
root=$1
spec=$2

# rpm's database where both root (dnf) and the build user (rpmbuild) see it.
mkdir -p "$root/etc/rpm" "$root/var/lib/rpm" "$root/etc/dnf/vars" "$root/etc/yum.repos.d"
printf '%%_dbpath /var/lib/rpm\n' > "$root/etc/rpm/macros"
echo 12 > "$root/etc/dnf/vars/releasever"
chroot "$root" rpm --initdb

# The unprivileged build user; bind-mounted checkouts belong to other uids.
chroot "$root" useradd --create-home --uid 1000 --user-group builder
chroot "$root" git config --system --add safe.directory '*'

# Virtual provides for the dpkg-installed tools, built and installed inside the image.
mkdir -p "$root/tmp/provides"
cp "$spec" "$root/tmp/provides/provides.spec"
chroot "$root" rpmbuild --quiet -bb --define '_topdir /tmp/provides/top' /tmp/provides/provides.spec
chroot "$root" sh -c 'rpm -i --force-debian /tmp/provides/top/RPMS/noarch/*.rpm'
rm -rf "$root/tmp/provides"

# Smaller image: no apt lists, docs or man pages are needed to build RPMs.
rm -rf "$root/var/lib/apt/lists"/* "$root/usr/share/doc"/* "$root/usr/share/man"/* \
       "$root/var/cache/apt"/*.bin
