#!/usr/bin/env bash
# Builds the native library (debug, unstripped: bindgen reads its metadata) and generates the
# Kotlin and Swift bindings from it into OUT:
#   bash bindings/generate.sh OUT            # OUT/app/ardoise/ardoise.kt, OUT/Ardoise.swift, ...
#   bash bindings/generate.sh OUT --update   # and copies them over the committed ones
# Prints the folder holding libardoise.so (honours CARGO_TARGET_DIR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: bindings/generate.sh OUT [--update]}
cd "$root"
target=$(bash bindings/target-dir.sh)

echo "== building the native library (debug, unstripped: bindgen reads its metadata)" >&2
cargo build -q -p ardoise-bindings --features cli --lib --bin uniffi-bindgen >&2
lib=$target/debug/libardoise.so
"$target/debug/uniffi-bindgen" generate "$lib" --language kotlin --language swift --out-dir "$out" --no-format >&2
if [ "${2:-}" = "--update" ]; then
    mkdir -p android/src/main/kotlin/app/ardoise ios/Sources/Ardoise ios/Headers
    cp "$out/app/ardoise/ardoise.kt" android/src/main/kotlin/app/ardoise/ardoise.kt
    cp "$out/Ardoise.swift" ios/Sources/Ardoise/Ardoise.swift
    cp "$out/ArdoiseFFI.h" ios/Headers/ArdoiseFFI.h
    cp "$out/ArdoiseFFI.modulemap" ios/Headers/module.modulemap
    echo "== bindings updated" >&2
fi
echo "$target/debug"
