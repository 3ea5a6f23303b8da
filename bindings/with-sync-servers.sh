#!/usr/bin/env bash
# Runs a command next to two real back offices, for the Kotlin and Swift sync tests:
#   bash bindings/with-sync-servers.sh COMMAND [ARGS...]
# Builds ardoise-server (or uses $ARDOISE_SERVER_BIN), serves it on free loopback ports with
# temporary SQLite databases, creates a shop and one-time enrolment codes with its CLI, runs
# COMMAND with them in the environment, then stops the servers. Exits with COMMAND's status.
#   ARDOISE_SYNC_URL, ARDOISE_SYNC_CODES    the shop's server and 12 unused codes (comma-separated)
#   ARDOISE_SYNC_DOOMED_URL, _CODE, _PID    a second server, with 1 code, that the tests stop
#                                           themselves to see a till keep its events
#   ARDOISE_SYNC_BANK_LINE                  a credit of 12.34 EUR booked 2026-03-01 that the first
#                                           server's back office imported (matched to nobody)
# Each is also exported as TEST_RUNNER_<name>: xcodebuild hands those to the tests it runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

server_bin=${ARDOISE_SERVER_BIN:-}
if [ -z "$server_bin" ]; then
    echo "== building the sync server" >&2
    (cd "$root" && cargo build -q -p ardoise-server >&2)
    server_bin=$(bash "$root/bindings/target-dir.sh")/debug/ardoise-server
fi

work=$(mktemp -d)
server_pids=""
cleanup() {
    for pid in $server_pids; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# start_server NAME CODES: a shop with CODES enrolment codes, served on a free loopback port.
# Sets server_url, server_pid, server_codes and server_shop.
start_server() {
    local name=$1 db="sqlite://$work/$1.db?mode=rwc" shop port pid codes=""
    shop=$("$server_bin" --database-url "$db" shop create --name "Test shop $name" 2>>"$work/$name.log")
    for _ in $(seq "$2"); do
        codes=$codes${codes:+,}$("$server_bin" --database-url "$db" enrol-code --shop "$shop" 2>>"$work/$name.log")
    done
    for _ in $(seq 10); do
        port=$((20000 + RANDOM % 40000))
        NO_COLOR=1 "$server_bin" --database-url "$db" serve --listen "127.0.0.1:$port" --rate-per-second 0 \
            >>"$work/$name.log" 2>&1 &
        pid=$!
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break # it exited: the port was taken, try another
            if grep -Eq 'INFO.*listening' "$work/$name.log"; then
                server_pids="$server_pids $pid"
                server_url="http://127.0.0.1:$port" server_pid=$pid server_codes=$codes server_shop=$shop
                return 0
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "error: the $name sync server did not start:" >&2
    cat "$work/$name.log" >&2
    return 1
}

# A statement the back office imports before any till joins: one credit from a payer who is
# nobody's customer yet, which the owner's phone then lists and confirms.
cat >"$work/statement.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>SYNC-TESTS</MsgId><CreDtTm>2026-03-02T06:00:00+01:00</CreDtTm></GrpHdr>
<Stmt><Id>S-2026-03-01</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-02-28</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">12.34</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">12.34</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-01</Dt></BookgDt><ValDt><Dt>2026-03-01</Dt></ValDt><AcctSvcrRef>BO-LINE-1</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>BO-LINE-1</AcctSvcrRef></Refs><Amt Ccy="EUR">12.34</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<RmtInf><Ustrd>VIREMENT M TESTEUR</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
XML

start_server shop 12
# Imported by another process than the one serving (its own copy): what reaches the tills is
# what the shop's log carries.
"$server_bin" --database-url "sqlite://$work/shop.db?mode=rwc" bank import --data-dir "$work/import" \
    --shop "$server_shop" "$work/statement.xml" >>"$work/shop.log" 2>&1 || { cat "$work/shop.log" >&2; exit 1; }
export ARDOISE_SYNC_URL=$server_url ARDOISE_SYNC_CODES=$server_codes ARDOISE_SYNC_BANK_LINE=BO-LINE-1
start_server doomed 1
export ARDOISE_SYNC_DOOMED_URL=$server_url ARDOISE_SYNC_DOOMED_CODE=$server_codes ARDOISE_SYNC_DOOMED_PID=$server_pid
for v in ARDOISE_SYNC_URL ARDOISE_SYNC_CODES ARDOISE_SYNC_BANK_LINE ARDOISE_SYNC_DOOMED_URL ARDOISE_SYNC_DOOMED_CODE ARDOISE_SYNC_DOOMED_PID; do
    export "TEST_RUNNER_$v=${!v}"
done
echo "== sync servers: $ARDOISE_SYNC_URL, and $ARDOISE_SYNC_DOOMED_URL (pid $ARDOISE_SYNC_DOOMED_PID) to stop" >&2

status=0
"$@" || status=$?
exit $status
