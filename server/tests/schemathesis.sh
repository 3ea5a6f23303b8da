#!/usr/bin/env bash
# Checks that the sync server does what docs/sync-openapi.yaml says, with schemathesis (pinned,
# from PyPI, installed into a venv under cargo's target folder): it serves a real
# `ardoise-server serve` on loopback with a shop, a device enrolled through POST /v1/enrol and a
# few events pushed, then lets schemathesis generate valid and invalid requests with that
# device's token. Every check runs: no 5xx, each status code listed for its operation, each
# body and header matching its schema, invalid requests refused with a 4xx, valid ones not
# refused for what the schema allows. Once on SQLite and, when it runs, once on PostgreSQL at
# 127.0.0.1:5432 (database test, in a schema of its own, dropped afterwards).
#   bash server/tests/schemathesis.sh
#   ARDOISE_SERVER_BIN             use this server instead of building it
#   ARDOISE_SCHEMATHESIS_EXAMPLES  test cases per operation and phase (default 100)
#   ARDOISE_SCHEMATHESIS_SEED      the generator's seed (default fixed, so that runs repeat)
#   ARDOISE_SCHEMATHESIS_KEEP      a folder to copy the server logs and JUnit reports into
# The last line is "N passed, N failed": per database, one test per operation and one for the
# stateful phase (schemathesis' JUnit report), and one for the setup (the enrolment, the seeded
# push and pages) and a server log without errors.
set -euo pipefail
export NO_COLOR=1
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

version=4.32.5
examples=${ARDOISE_SCHEMATHESIS_EXAMPLES:-100}
seed=${ARDOISE_SCHEMATHESIS_SEED:-20261204}
pg_url=${ARDOISE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}

if ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
    apt-get update -qq >&2 && apt-get install -y -qq curl jq >&2
fi

target=$(bash bindings/target-dir.sh)
server_bin=${ARDOISE_SERVER_BIN:-}
if [ -z "$server_bin" ]; then
    echo "== building the sync server" >&2
    cargo build -q -p ardoise-server >&2
    server_bin=$target/debug/ardoise-server
fi

venv=$target/schemathesis-$version
if [ ! -f "$venv/installed" ]; then # a venv without the mark is from an interrupted install
    echo "== installing schemathesis $version into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$version" >&2
    touch "$venv/installed"
fi

work=$(mktemp -d)
# A copy: another build in the same target folder must not swap the binary under the run.
cp "$server_bin" "$work/ardoise-server"
server_bin=$work/ardoise-server
server_pid=""
pg_schema=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
cleanup() {
    stop_server
    if [ -n "$pg_schema" ]; then
        psql -q "$pg_url" -c "DROP SCHEMA IF EXISTS $pg_schema CASCADE" >/dev/null 2>&1 || true
    fi
    if [ -n "${ARDOISE_SCHEMATHESIS_KEEP:-}" ]; then
        mkdir -p "$ARDOISE_SCHEMATHESIS_KEEP" && cp "$work"/*.log "$work"/*.xml "$ARDOISE_SCHEMATHESIS_KEEP"/ 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAILED: $*"; }

# start_server DB_URL LOG: serves on a free loopback port, without rate limit or reminder
# ladder; its dispatcher records what payment providers report, and "Mollie's API" is the
# server itself, which knows no payment (404): a steered hint is checked and ignored.
# Sets server_url and server_pid.
start_server() {
    local db=$1 log=$2 port pid
    for _ in $(seq 10); do
        port=$((20000 + RANDOM % 40000))
        "$server_bin" --database-url "$db" serve --listen "127.0.0.1:$port" --rate-per-second 0 \
            --no-ladder --data-dir "$log.data" --mollie-api "http://127.0.0.1:$port" \
            --stripe-api "http://127.0.0.1:$port" >>"$log" 2>&1 &
        pid=$!
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break # it exited: the port was taken, try another
            if grep -Eq 'INFO.*listening' "$log"; then
                server_url="http://127.0.0.1:$port" server_pid=$pid
                return 0
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "error: the sync server did not start:" >&2
    cat "$log" >&2
    return 1
}

# expect NAME JQ_FILTER JSON: the filter must hold on the answer.
expect() {
    if jq -e "$2" >/dev/null 2>&1 <<<"$3"; then return 0; fi
    echo "$1: expected $2, got: $3" >&2
    return 1
}

uuid() { cat /proc/sys/kernel/random/uuid; }
# clock WALL_MS COUNTER: this device's hybrid logical clock, as the tills write it.
clock() { printf '%015d.%06d.%s' "$1" "$2" "${device//-/}"; }

# setup NAME DB_URL: a shop with Stripe and Mollie accounts, a device enrolled over HTTP, three
# events pushed and read back. Sets token, device, epoch, codes, head and st_shop.
setup() {
    local name=$1 db=$2 log=$work/$1.log shop code answer customer other e1 e2 e3 now today at
    shop=$("$server_bin" --database-url "$db" shop create --name "Schemathesis $name" 2>>"$log")
    code=$("$server_bin" --database-url "$db" enrol-code --shop "$shop" 2>>"$log")
    # Payment provider accounts, for the webhooks to reach past 404 (the hooks steer their shop).
    ARDOISE_STRIPE_SECRET_KEY=sk_test_st ARDOISE_STRIPE_WEBHOOK_SECRETS=whsec_st \
        "$server_bin" --database-url "$db" stripe --shop "$shop" >>"$log" 2>&1
    ARDOISE_MOLLIE_API_KEY=test_st "$server_bin" --database-url "$db" mollie --shop "$shop" >>"$log" 2>&1
    st_shop=$shop
    codes=""
    for _ in $(seq 20); do
        codes=$codes${codes:+,}$("$server_bin" --database-url "$db" enrol-code --shop "$shop" 2>>"$log")
    done
    start_server "$db" "$log"
    device=$(uuid)
    answer=$(curl -sS -X POST "$server_url/v1/enrol" -H 'Content-Type: application/json' -H 'Ardoise-Protocol: 1' \
        -d "{\"code\": \"$code\", \"device_id\": \"$device\", \"device_name\": \"Till 1\"}")
    expect "enrol" ".shop_id == \"$shop\" and (.token | length) == 64" "$answer" || return 1
    token=$(jq -r .token <<<"$answer") epoch=$(jq -r .epoch <<<"$answer")
    # Three events as a till records them: a customer, a sale to them on this till, and one to a
    # customer the shop has never seen (kept, not rejected).
    customer=$(uuid) other=$(uuid) e1=$(uuid) e2=$(uuid) e3=$(uuid)
    now=$(date +%s%3N) today=$(date -u +%F) at=$(date -u +%FT%TZ)
    answer=$(curl -sS -X POST "$server_url/v1/push" -H "Authorization: Bearer $token" -H 'Ardoise-Protocol: 1' \
        -H 'Content-Type: application/json' -d @- <<EOF
{"epoch": "$epoch", "device_id": "$device", "acked_through": 0, "events": [
  {"id": "$e1", "seq": 1, "kind": "customer", "hlc": "$(clock "$now" 0)",
   "payload": {"customer": {"id": "$customer", "reference": "C1", "name": "Ada", "email": null, "phone": null,
     "kind": "consumer", "credit_limit": null, "terms": "30", "blocked": null, "consent_email": false,
     "consent_sms": false, "notes": ""}, "changed": ["*"]}},
  {"id": "$e2", "seq": 2, "kind": "entry", "hlc": "$(clock "$now" 1)",
   "payload": {"id": "$e2", "device_id": "$device", "device_seq": 2, "customer": "$customer",
     "business_date": "$today", "recorded_at": "$at", "cashier": "Nino", "kind": "sale", "amount": "12.34",
     "invoice_ref": "F-1", "due_on": "$today"}},
  {"id": "$e3", "seq": 3, "kind": "entry", "hlc": "$(clock "$now" 2)",
   "payload": {"id": "$e3", "device_id": "$device", "device_seq": 3, "customer": "$other",
     "business_date": "$today", "recorded_at": "$at", "cashier": "Nino", "kind": "sale", "amount": "5.00",
     "invoice_ref": "F-2", "due_on": "$today"}}]}
EOF
    )
    expect "push" '.acked_through == 3 and .head == 3 and .rejected == []' "$answer" || return 1
    answer=$(curl -sS "$server_url/v1/changes?after=0&limit=0" -H "Authorization: Bearer $token")
    expect "changes" '.next == 1 and .head == 3 and (.changes | length) == 1' "$answer" || return 1
    answer=$(curl -sS "$server_url/v1/changes?after=1&limit=1001" -H "Authorization: Bearer $token")
    expect "changes" '.next == 3 and ([.changes[].cursor] == [2, 3])' "$answer" || return 1
    head=3
}

# run_backend NAME DB_URL
run_backend() {
    local name=$1 db=$2 log=$work/$1.log junit=$work/$1.xml status=0 started counts
    echo "== schemathesis on $name"
    started=$(date +%s)
    if ! setup "$name" "$db"; then
        fail "$name: setup (enrolment, a push, two pages)"
        cat "$log" >&2
        stop_server
        return
    fi
    # From the temporary folder: schemathesis keeps the failures it found in .schemathesis/ under
    # its working folder and replays them first; each run starts without them.
    (cd "$work" && ARDOISE_ST_DEVICE=$device ARDOISE_ST_EPOCH=$epoch ARDOISE_ST_CODES=$codes ARDOISE_ST_HEAD=$head ARDOISE_ST_SHOP=$st_shop ARDOISE_ST_WHSEC=whsec_st \
        SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=$root/server/tests \
        timeout 120 "$venv/bin/schemathesis" --no-color run "$root/docs/sync-openapi.yaml" --url "$server_url" \
        -H "Authorization: Bearer $token" --checks all --max-examples "$examples" --seed "$seed" \
        --generation-database none --report junit --report-junit-path "$junit") || status=$?
    stop_server
    if [ "$status" = 124 ]; then echo "schemathesis ran out of time" >&2; fi
    # The tests of the report; a run that left no report failed.
    counts=$("$venv/bin/python" - "$junit" <<'EOF' || echo "0 1"
import sys
import xml.etree.ElementTree as ET

ok = bad = 0
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    if case.find("failure") is not None or case.find("error") is not None:
        bad += 1
    else:
        ok += 1
print(ok, bad if ok + bad else 1)
EOF
    )
    passed=$((passed + ${counts% *})) failed=$((failed + ${counts#* }))
    if [ "$status" != 0 ] && [ "${counts#* }" = 0 ]; then failed=$((failed + 1)); fi
    echo "$name: ${counts% *} schemathesis tests passed, ${counts#* } failed (schemathesis exit $status), $(($(date +%s) - started)) s"
    # The server logged no failure of its own either.
    if grep -Eq ' ERROR |status=5[0-9][0-9]' "$log"; then
        fail "$name: the server logged errors"
        grep -E ' ERROR |status=5[0-9][0-9]' "$log" | head -20 >&2
    else
        pass "$name: setup and a clean server log"
    fi
}

run_backend sqlite "sqlite://$work/schemathesis.db?mode=rwc"

if command -v psql >/dev/null && psql -q "$pg_url" -c 'SELECT 1' >/dev/null 2>&1; then
    pg_schema=schemathesis_$(uuid | tr -d -)
    psql -q "$pg_url" -c "CREATE SCHEMA $pg_schema" >/dev/null
    sep='?'
    case $pg_url in *\?*) sep='&' ;; esac
    run_backend postgres "$pg_url${sep}options=-c%20search_path%3D$pg_schema"
else
    echo "== no PostgreSQL at $pg_url: schemathesis runs on SQLite only"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
