#!/usr/bin/env bash
# Prints cargo's target folder for this workspace, absolute: CARGO_TARGET_DIR (relative to the
# caller's folder, as cargo reads it), a config's build.target-dir, or target/ at the root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
    sed -E 's/.*"target_directory":"([^"]*)".*/\1/'
