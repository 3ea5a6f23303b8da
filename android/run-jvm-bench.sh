#!/usr/bin/env bash
# Benchmark: the checkout verdict from Kotlin on the JVM through JNA, on the benchmark shop that
# `cargo bench -p ardoise-core` generates. Usage: android/run-jvm-bench.sh [DB] [NOW]
# Uses the release library (what apps ship); bindings are the committed ones. Also times the
# same verdict through CheckoutLane (one plain native call), and the fixed cost of uniffi calls.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
# The generated shops stay in target/bench-data at the root (core/benches/shop/dataset.rs), wherever
# cargo builds; the release library is in cargo's target folder.
data=$root/target/bench-data
target=$(bash bindings/target-dir.sh)
db=${1:-$data/shop-50k-5m.db}
now=${2:-2026-11-20T12:00:00+01:00}
[ -f "$db" ] || { echo "no $db: run cargo bench -p ardoise-core first" >&2; exit 1; }
kotlin_home=${KOTLIN_HOME:-$(npm root -g)/kotlin-compiler}
jars=/usr/share/java/jna.jar:$kotlin_home/lib/kotlin-stdlib.jar:$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar

cargo build -q --release -p ardoise-bindings --lib
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$db" "$work/shop.db"
"$kotlin_home/bin/kotlinc-jvm" -nowarn -cp "$jars" -d "$work/classes" android/src/main/kotlin android/bench
mkdir -p "$data"
# ARDOISE_BENCH_JAVA_OPTS: extra JVM flags (e.g. -XX:+PrintCompilation, or a JFR recording).
# shellcheck disable=SC2086
java -Xms512m -Xmx512m ${ARDOISE_BENCH_JAVA_OPTS:-} -Djna.library.path="$target/release" -Dardoise.bench.out="$data/kotlin-checkout.json" \
    -cp "$work/classes:$jars" app.ardoise.bench.CheckoutBenchKt "$work/shop.db" "$now" "${3:-100000}"
