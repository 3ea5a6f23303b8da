#!/usr/bin/env bash
# Issue 5's PouchDB baseline, in one command: `bash bench/pouchdb/run.sh`. Not part of CI.
# Installs the npm packages if missing, exports the Ardoise till's events if missing (the same
# 100,000 events as `cargo bench -p ardoise-server --bench sync`), then replicates them through
# a PouchDB server on loopback and prints the ratios against target/bench-data/sync-results.json
# when the Ardoise bench has run. ARDOISE_SYNC_EVENTS changes the count; POUCH_BATCHES picks
# matched, default or both (the default) batch sizes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
events="${ARDOISE_SYNC_EVENTS:-100000}"
data="$root/target/bench-data"
json="$data/sync-events-$events.json"

command -v node >/dev/null || { echo "error: node is required" >&2; exit 1; }
if [ ! -d "$here/node_modules/pouchdb" ] || [ ! -d "$here/node_modules/express-pouchdb" ]; then
    (cd "$here" && npm ci --no-audit --no-fund)
fi
if [ ! -f "$json" ]; then
    echo "exporting the till's $events events (cargo bench ... ARDOISE_SYNC_EXPORT_ONLY=1)" >&2
    (cd "$root" && ARDOISE_SYNC_EXPORT_ONLY=1 ARDOISE_SYNC_EVENTS="$events" cargo bench -p ardoise-server --bench sync)
fi
mkdir -p "$data"
exec node "$here/bench.js" "$json" "$data" "$data/sync-results.json"
