#!/usr/bin/env bash
# The checkout verdict from Swift on Linux against the same call from Rust (issue 14's figure):
# both call `Till::check` on the same shop, the same customers in the same order, against the
# release library; runs alternate Rust, Swift, Rust, Swift... on copies of the shop.
#   bash ios/run-linux-bench.sh [DB] [NOW] [CALLS] [ROUNDS]
# DB defaults to the 50,000-customer shop that `cargo bench -p ardoise-core --bench shop` caches.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
db=${1:-$root/target/bench-data/shop-50k-5m.db}
now=${2:-2026-11-20T12:00:00+01:00}
calls=${3:-100000}
rounds=${4:-3}
[ -f "$db" ] || { echo "no $db: run cargo bench -p ardoise-core --bench shop first" >&2; exit 1; }
target=$(bash bindings/target-dir.sh)

cargo build -q --release -p ardoise-bindings --lib --example verdict_bench
bash ios/linux-swift-root.sh >/dev/null
bash ios/in-swift-root.sh swift build -c release --package-path bench --scratch-path "$target/swift-bench" \
    -Xlinker -L"$target/release" -Xlinker -rpath -Xlinker "$target/release" >&2

# A copy inside the target folder, which in-swift-root.sh mounts for the Swift side too.
work=$(mktemp -d -p "$target")
trap 'rm -rf "$work"' EXIT
cp "$db" "$work/shop.db"
echo "shop: $db ($(du -h "$db" | cut -f1)), now $now, $calls calls per run, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
    "$target/release/examples/verdict_bench" "$work/shop.db" "$now" "$calls"
    bash ios/in-swift-root.sh "$target/swift-bench/release/CheckoutBench" "$work/shop.db" "$now" "$calls"
done
