#!/usr/bin/env bash
# The Swift package's XCTest suite on Linux: builds the native library, regenerates the Swift
# bindings and checks them against the committed ones, prepares Debian's Swift 6 toolchain in a
# trixie root (linux-swift-root.sh: the first run downloads about 500 MB), builds the package
# in Swift 6 language mode against libardoise.so, and runs the suite next to two real back
# offices (bindings/with-sync-servers.sh). A skipped test fails the run. Last line:
# "N passed, N failed". Needs root (debootstrap, chroot, unshare).
#   bash ios/run-linux-tests.sh [--update]    # --update: copy the regenerated bindings first
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
libdir=$(bash bindings/generate.sh "$work/gen" "$@")
stale=0
for pair in Ardoise.swift:ios/Sources/Ardoise/Ardoise.swift ArdoiseCore.swift:ios/Sources/Ardoise/ArdoiseCore.swift \
    ArdoiseFFI.h:ios/Headers/ArdoiseFFI.h ArdoiseCoreFFI.h:ios/Headers/ArdoiseCoreFFI.h \
    ArdoiseFFI.modulemap:ios/Headers/module.modulemap; do
    if ! cmp -s "$work/gen/${pair%%:*}" "${pair#*:}"; then
        echo "error: ${pair#*:} differs from the bindings generated from the current library: run ios/run-linux-tests.sh --update and commit" >&2
        stale=1
    fi
done
[ "$stale" = 0 ] || { echo "0 passed, 1 failed"; exit 1; }

bash ios/linux-swift-root.sh >/dev/null
target=$(bash bindings/target-dir.sh)
link=(-Xlinker -L"$libdir" -Xlinker -rpath -Xlinker "$libdir")
echo "== building the Swift package and its tests (Swift 6 language mode)" >&2
bash ios/in-swift-root.sh swift build --build-tests --scratch-path "$target/swift" "${link[@]}" >&2

echo "== running the XCTest suite" >&2
status=0
bash bindings/with-sync-servers.sh bash ios/in-swift-root.sh \
    swift test --skip-build --scratch-path "$target/swift" "${link[@]}" 2>&1 | tee "$work/log" >&2 || status=1

# XCTest's last summary: "Executed 32 tests, with 1 test skipped and 0 failures (0 unexpected) in ..."
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with" "$work/log" | tail -1 || true)
ran=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"${summary:-Executed 0 tests}")
skipped=$(grep -Eo '[0-9]+ tests? skipped' <<<"$summary" | grep -Eo '^[0-9]+' || echo 0)
failures=$(grep -Eo '[0-9]+ failures?' <<<"$summary" | grep -Eo '^[0-9]+' || echo 0)
passed=$((ran - skipped - failures)) failed=$((failures + skipped))
if [ -z "$summary" ]; then
    echo "error: the XCTest suite printed no summary" >&2
    status=1 failed=$((failed + 1))
fi
if [ "$skipped" != 0 ]; then
    echo "error: $skipped Swift test(s) skipped, counted as failed: every test must run here" >&2
    grep -E "Test skipped" "$work/log" >&2 || true
    status=1
fi
echo "$passed passed, $failed failed"
exit $status
