#!/usr/bin/env bash
# Prepares a Debian 13 ("trixie") root with Debian's Swift 6 toolchain (`swiftlang`), for
# building and testing the Swift package on a Debian 12 machine, and prints its path.
#   bash ios/linux-swift-root.sh            # the root, built once per machine, reused after
# The root lives outside the clone ($ARDOISE_SWIFT_ROOT, default /var/cache/ardoise/swift-trixie).
# It is built in a sibling folder and renamed into place only once `swift --version` runs inside
# it, so a run killed half-way leaves no root that a later run would trust: that run starts over.
# Needs root (debootstrap, chroot). The first build downloads about 500 MB.
set -euo pipefail

root=${ARDOISE_SWIFT_ROOT:-/var/cache/ardoise/swift-trixie}
mirror=${ARDOISE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Bump when the packages below change, so every machine rebuilds its root once. swiftc links
# with gcc and needs the C headers: libc6-dev and libstdc++ are only recommended by swiftlang.
recipe="trixie swiftlang libc6-dev libstdc++-14-dev v2"
stamp=$root/.ardoise-root

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ]; then
    echo "$root"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "error: building the Swift root needs root (debootstrap, chroot)" >&2
    exit 1
fi
mkdir -p "$(dirname "$root")"
# One builder at a time; a second run waits, then finds the root ready.
exec 9>"$root.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ]; then
    echo "$root"
    exit 0
fi

if ! command -v debootstrap >/dev/null; then
    apt-get update -qq >&2 && apt-get install -y -qq debootstrap >&2
fi

partial=$root.partial
# The checkout is mounted inside the root only in private namespaces (in-swift-root.sh), but never
# remove a folder something is mounted under: that could reach the checkout itself.
if awk '{print $2}' /proc/self/mounts | grep -Eq "^($root|$partial)(/|$)"; then
    echo "error: something is mounted under $root: unmount it before the root is rebuilt" >&2
    exit 1
fi
# What a killed run left: its mounts died with its namespace, so the folder is plain files.
rm -rf "$partial"
echo "== building a Debian trixie root in $partial (once per machine)" >&2
started=$(date +%s)
debootstrap --variant=minbase --include=ca-certificates trixie "$partial" "$mirror" >&2
cp /etc/resolv.conf "$partial/etc/resolv.conf"
echo "== installing swiftlang in it" >&2
unshare -m -- bash -euo pipefail -c '
    mount -t proc proc "$1/proc"
    chroot "$1" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive chroot "$1" apt-get install -y -qq --no-install-recommends swiftlang libc6-dev libstdc++-14-dev >/dev/null
    chroot "$1" apt-get clean
    chroot "$1" swift --version
' _ "$partial" >&2
echo "$recipe" >"$partial/.ardoise-root"
rm -rf "$root"
mv "$partial" "$root"
echo "== Swift root ready in $(($(date +%s) - started)) s" >&2
echo "$root"
