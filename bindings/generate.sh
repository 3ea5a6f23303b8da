#!/usr/bin/env bash
# Builds the native library (debug, unstripped: bindgen reads its metadata) and generates the
# Kotlin and Swift bindings from it into OUT:
#   bash bindings/generate.sh OUT            # OUT/app/ardoise/ardoise.kt, OUT/Ardoise.swift, ...
# Two namespaces: the bindings' (`Till`, its calls) and the core's (the records, enums, values and
# error that cross as they are): two Kotlin files in two packages, two Swift files and their two
# headers in one Swift module and one C module.
#   bash bindings/generate.sh OUT --update   # and copies them over the committed ones
# Prints the folder holding libardoise.so (honours CARGO_TARGET_DIR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: bindings/generate.sh OUT [--update]}
cd "$root"
target=$(bash bindings/target-dir.sh)

echo "== building the native library (debug, unstripped: bindgen reads its metadata)" >&2
cargo build -q -p ardoise-bindings --features cli --lib --bin uniffi-bindgen --bin uniffi-bindgen-swift >&2
lib=$target/debug/libardoise.so
"$target/debug/uniffi-bindgen" generate "$lib" --language kotlin --out-dir "$out" --no-format >&2
"$target/debug/uniffi-bindgen-swift" "$lib" "$out" --swift-sources --headers --modulemap \
    --module-name ArdoiseFFI --modulemap-filename ArdoiseFFI.modulemap >&2
if [ "${2:-}" = "--update" ]; then
    mkdir -p android/src/main/kotlin/app/ardoise/core ios/Sources/Ardoise ios/Headers
    cp "$out/app/ardoise/ardoise.kt" android/src/main/kotlin/app/ardoise/ardoise.kt
    cp "$out/app/ardoise/core/ardoise_core.kt" android/src/main/kotlin/app/ardoise/core/ardoise_core.kt
    cp "$out/Ardoise.swift" "$out/ArdoiseCore.swift" ios/Sources/Ardoise/
    cp "$out/ArdoiseFFI.h" "$out/ArdoiseCoreFFI.h" ios/Headers/
    cp "$out/ArdoiseFFI.modulemap" ios/Headers/module.modulemap
    echo "== bindings updated" >&2
fi
echo "$target/debug"
