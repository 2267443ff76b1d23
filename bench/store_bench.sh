#!/usr/bin/env bash
# store_bench.sh — ingest into the two store providers, in one run:
#   - `vnd parse -o t.db`      SQLite (the embedded store)
#   - `vnd parse --pg`         PostgreSQL, binary COPY per batch and table
# beside the stores' own bulk loaders on the same rows (the references):
#   - psql \copy FROM a CSV file (PostgreSQL's COPY, text form)
#   - sqlite3 .import of the same CSV
# vnd parse decodes the capture as well; the loaders only read CSV.
# Prints rows/s and wall seconds, best of RUNS runs (shared machines).
# Starts a private PostgreSQL (Unix socket, fsync off as for every run
# here) in a temporary directory and removes it on exit.  Needs root.
#
#   bench/store_bench.sh [PACKETS=1000000] [BUILD=build] [RUNS=3]
set -eu
N=${1:-1000000}
B=${2:-build}
RUNS=${3:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] && [ "$(id -u)" = 0 ] || { echo "store_bench: needs root and postgresql" >&2; exit 1; }
work=$(mktemp -d /tmp/vnd-storebench.XXXXXX)
chmod 755 "$work"
pg() { runuser -u postgres -- "$@"; }
cleanup() {
    [ -f "$work/pg/postmaster.pid" ] && pg "$PGBIN/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/pg" && chown postgres "$work/pg" "$work"
pg "$PGBIN/initdb" -D "$work/pg" -A trust -U vnd --no-sync >/dev/null
pg "$PGBIN/pg_ctl" -D "$work/pg" -w -l "$work/pg.log" \
    -o "-k $work -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_wal_size=4GB" start >/dev/null
CONN="host=$work user=vnd dbname=postgres"
psql_() { PGOPTIONS='-c client_min_messages=warning' "$PGBIN/psql" -X -q -h "$work" -U vnd -d postgres "$@"; }

"$B/bench/gen_capture" "$work/cap.pcap" "$N" 64 >/dev/null
"$B/vnd" parse -q -o "$work/ref.db" cap="$work/cap.pcap"
rows=$("$B/vnd" query -d "$work/ref.db" -f csv 'select count(*) from cap' | tail -1)
"$B/vnd" query -d "$work/ref.db" -f csv 'select * from cap' | tail -n +2 >"$work/rows.csv"
echo "capture: $N TCP packets → $rows rows of 11 columns (bench/gen_capture)"
COLS="ts double precision, id bigint, src_ip text, dst_ip text, proto bigint, src_port bigint,
      dst_port bigint, seq bigint, ack bigint, flags bigint, payload_len bigint"

# best NAME PREP CMD: the best wall time of RUNS runs of CMD, PREP before each
best() {
    local name=$1 prep=$2 b="" i s e t; shift 2
    for ((i = 0; i < RUNS; i++)); do
        eval "$prep"
        s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    printf '%-44s %8.2f s %12.0f rows/s\n' "$name" "$b" "$(echo "$rows / $b" | bc -l)"
}
printf '%-44s %10s %19s\n' "" "best of $RUNS" "rate"
best "vnd parse -o (SQLite, decode + write)" "rm -f $work/t.db*" \
    "$B/vnd" parse -q -o "$work/t.db" cap="$work/cap.pcap"
best "vnd parse --pg (PostgreSQL, binary COPY)" "psql_ -c 'drop schema if exists b cascade'" \
    "$B/vnd" parse -q --pg "$CONN#b" cap="$work/cap.pcap"
best "reference: psql \\copy CSV (COPY, text)" \
    "psql_ -c 'drop table if exists r; create table r ($COLS)'" \
    psql_ -c "\\copy r from '$work/rows.csv' with (format csv)"
best "reference: sqlite3 .import CSV" "rm -f $work/r.db; sqlite3 $work/r.db 'create table r (ts REAL, id INTEGER, src_ip TEXT, dst_ip TEXT, proto INTEGER, src_port INTEGER, dst_port INTEGER, seq INTEGER, ack INTEGER, flags INTEGER, payload_len INTEGER)'" \
    sqlite3 "$work/r.db" ".mode csv" ".import $work/rows.csv r"
check=$(psql_ -At -c 'select count(*) from b.cap')
[ "$check" = "$rows" ] || { echo "store_bench: PostgreSQL holds $check rows, not $rows" >&2; exit 1; }
