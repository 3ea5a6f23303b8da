#!/usr/bin/env bash
# Runs a command inside the Swift root that linux-swift-root.sh prepares, in ios/ of this
# checkout, with the same environment (the sync servers' URLs and codes), the same network and
# the same processes (a test may stop a server by pid):
#   bash ios/in-swift-root.sh swift test ...
# The checkout and cargo's target folder are mounted at their own paths inside it, and /proc
# (swiftc fails without it), in a private mount namespace: no mount outlives the command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
swift_root=$(bash "$root/ios/linux-swift-root.sh")
target=$(bash "$root/bindings/target-dir.sh")
mkdir -p "$target"
exec unshare -m -- bash -euo pipefail -c '
    sroot=$1 root=$2 target=$3
    shift 3
    mount --make-rprivate /
    mount -t proc proc "$sroot/proc"
    for dir in "$root" "$target"; do
        mkdir -p "$sroot$dir"
        mount --rbind "$dir" "$sroot$dir"
    done
    cd "$sroot$root/ios"
    exec chroot "$sroot" bash -c "cd \"\$0\" && exec \"\$@\"" "$root/ios" "$@"
' _ "$swift_root" "$root" "$target" "$@"
