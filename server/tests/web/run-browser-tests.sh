#!/usr/bin/env bash
# Browser tests of the web back office and the payment page: builds ardoise-server and the
# ardoise CLI, serves a temporary shop on a free loopback port (data made with the server's
# CLI and a till enrolled and synced with the ardoise CLI), then drives Debian's chromium,
# headless at phone size (390x844), with playwright-core (node:test). axe-core checks every
# page; screenshots go to docs/screenshots/. The last line is "N passed, N failed".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cd "$repo"

if [ ! -x /usr/bin/chromium ]; then
    apt-get update >/dev/null && apt-get install -y chromium >/dev/null
fi
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
    (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi

cargo build -q -p ardoise-server -p ardoise-cli
target=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
server="$target/debug/ardoise-server"
till_cli="$target/debug/ardoise"

tmp=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
base="http://127.0.0.1:$port"
export ARDOISE_DATABASE_URL="sqlite://$tmp/server.db?mode=rwc"
shop=$("$server" shop create --name "Épicerie du Marché" 2>/dev/null)
other=$("$server" shop create --name "Boulangerie" 2>/dev/null)
setup=$("$server" user add --shop "$shop" --email owner@example.fr --base-url "$base" 2>/dev/null)
setup_other=$("$server" user add --shop "$other" --email baker@example.fr --language en --base-url "$base" 2>/dev/null)

"$server" serve --listen "127.0.0.1:$port" --data-dir "$tmp/data" --no-ladder --rate-per-second 0 >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    curl -fs -o /dev/null "$base/login" && break
    sleep 0.1
done

# A till: two customers, one owing 1,234.56 for 50 days (overdue), one 20.00 from today.
till() { "$till_cli" --db "$tmp/till.db" --cashier Léa "$@" >/dev/null; }
then=$(date -d '50 days ago' +%F)
"$till_cli" --db "$tmp/till.db" enrol --server "$base" --code "$("$server" enrol-code --shop "$shop" 2>/dev/null)" >/dev/null
till customer add --ref C1 --name "Hélène Dupré" --terms 30 --date "$then"
till sale --customer C1 --amount 1234.56 --date "$then"
till customer add --ref C2 --name "Marc Petit" --terms 30
till sale --customer C2 --amount 20.00
# The day's reminders, queued on the till: the reminders page shows them once synced.
till dunning run
till sync
receivables=$("$till_cli" --db "$tmp/till.db" --json report aging | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).total))')
pay=$("$server" pay-page --shop "$shop" --customer C1 --data-dir "$tmp/cli-data" --base-url "$base" 2>/dev/null)

mkdir -p "$repo/docs/screenshots"
set +e
BASE="$base" SETUP="$setup" SETUP_OTHER="$setup_other" PAY="$pay" RECEIVABLES="$receivables" \
    SHOTS="$repo/docs/screenshots" node --test --test-reporter=tap "$here/browser.test.mjs" >"$tmp/node.tap" 2>&1
set -e
cat "$tmp/node.tap"
passed=$(sed -n 's/^# pass //p' "$tmp/node.tap" | tail -1)
failed=$(sed -n 's/^# fail //p' "$tmp/node.tap" | tail -1)
passed=${passed:-0}
failed=${failed:-1}

# What the pages wrote reaches the till by sync: the owner's promise, the customer's dispute.
till sync
check() {
    if "$@"; then passed=$((passed + 1)); echo "ok - $name"; else failed=$((failed + 1)); echo "not ok - $name"; fi
}
name="the promise reached the till" check grep -q "promise to pay" <("$till_cli" --db "$tmp/till.db" timeline --customer C1 --full 2>&1)
name="the dispute reached the till" check grep -q "Jamais livré" <("$till_cli" --db "$tmp/till.db" dispute list 2>&1)
token=${pay##*/p/}
name="the payment page's token is not in the server's log" check bash -c "! grep -q '$token' '$tmp/server.log'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
