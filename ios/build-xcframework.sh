#!/usr/bin/env bash
# Builds Ardoise.xcframework on macOS: the static library for iOS devices, the iOS simulator
# (arm64 + x86_64, joined with lipo) and macOS (for `swift test`), with the generated header and
# module map. Needs Xcode and the Rust targets below (rustup target add ...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

ios=aarch64-apple-ios
sims=(aarch64-apple-ios-sim x86_64-apple-ios)
macs=(aarch64-apple-darwin x86_64-apple-darwin)
for t in "$ios" "${sims[@]}" "${macs[@]}"; do
    rustup target add "$t" >/dev/null
    cargo build --release -p ardoise-bindings --lib --target "$t"
done

out=$root/target/xcframework
rm -rf "$out" "$here/Ardoise.xcframework"
mkdir -p "$out/headers" "$out/sim" "$out/mac"
cp "$here/Headers/ArdoiseFFI.h" "$here/Headers/ArdoiseCoreFFI.h" "$here/Headers/module.modulemap" "$out/headers/"
lipo -create "target/${sims[0]}/release/libardoise.a" "target/${sims[1]}/release/libardoise.a" -output "$out/sim/libardoise.a"
lipo -create "target/${macs[0]}/release/libardoise.a" "target/${macs[1]}/release/libardoise.a" -output "$out/mac/libardoise.a"

xcodebuild -create-xcframework \
    -library "target/$ios/release/libardoise.a" -headers "$out/headers" \
    -library "$out/sim/libardoise.a" -headers "$out/headers" \
    -library "$out/mac/libardoise.a" -headers "$out/headers" \
    -output "$here/Ardoise.xcframework"
echo "built $here/Ardoise.xcframework"
