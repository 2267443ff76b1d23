#!/usr/bin/env bash
# records_bench.sh — `vnd diag throughput` on a table of IPFIX flow records
# (docs/capture.md, "Throughput from flow records"): from the table's
# rollup (docs/rollups.md, "Flow records"), and from the records
# (--no-rollup, the C step), beside:
#   - the same app's SQL, as `--show-sql` prints it, run by `vnd query`
#     (what PostgreSQL and a table without the C step run);
#   - the floor: `vnd query` counting the five columns the app reads, over
#     the same rows (reading them before any work).
# The records are a table server's: bench/flowsend sends N messages of 16
# records (flows of up to 2 s, a few hundred distinct) to a vnd-tabled on
# loopback, which packs them.  Each time is the best of RUNS runs (default
# 3): the machine is shared.
#
#   bench/records_bench.sh [MESSAGES=62500 (1 M records)] [RUNS=3] [SLOT=1] [PPS=20000]
# (PPS: the messages sent a second; fewer spread the records, and the
# rollup's rows, over more seconds)
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
N=${1:-62500}
RUNS=${2:-3}
SLOT=${3:-1}
PPS=${4:-20000}
W=$(mktemp -d /tmp/vnd-records-bench.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$W"' EXIT
PORT=$((20000 + RANDOM % 10000))
head -c 24 /dev/urandom | base64 >"$W/secret"
chmod 600 "$W/secret"
"$B/vnd-tabled" --db "$W/t.db" --listen "127.0.0.1:$((PORT + 1))" --secret-file "$W/secret" \
    --ipfix-listen "127.0.0.1:$PORT" --log-file "$W/log" >/dev/null 2>&1 &
PID=$!
for _ in $(seq 100); do
    curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$W/secret")" \
        -d '{"id":"flows","tag":1,"mode":"ipfix"}' "http://127.0.0.1:$((PORT + 1))/v1/traces" \
        2>/dev/null | grep -q 201 && break
    sleep 0.1
done
echo "# sending $N messages of 16 records (paced at $PPS a second)"
"$B/bench/flowsend" -k ipfix -d "127.0.0.1:$PORT" -n "$N" -p "$PPS" -i 1 -s 7 >/dev/null
sleep 2
kill -INT "$PID"
wait "$PID" || true
PID=
DB=$W/t.db.tenants/default.db
ROWS=$("$B/vnd" query -d "$DB" -f csv "select count(*) from flows" | tail -1)
echo "# $ROWS records stored; slot $SLOT s;" \
    "$("$B/vnd" query -d "$DB" -f csv "select count(*) from flows__rollup" | tail -1) rollup rows"

# best NAME CMD...: the best wall time of RUNS runs
best() {
    local name=$1 b="" i t0 t1 s; shift
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s.%N)
        "$@" >"$W/out.$name" 2>&1 || { echo "# $name failed: $(head -2 "$W/out.$name")"; return 1; }
        t1=$(date +%s.%N)
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        if [ -z "$b" ] || awk -v x="$s" -v y="$b" 'BEGIN { exit !(x < y) }'; then b=$s; fi
    done
    echo "$b"
}
"$B/vnd" diag throughput -d "$DB" -t flows --slot "$SLOT" --no-rollup --show-sql >"$W/q.sql"
ROLLUP=$(best rollup "$B/vnd" diag throughput -d "$DB" -t flows --slot "$SLOT" -f csv)
STEP=$(best step "$B/vnd" diag throughput -d "$DB" -t flows --slot "$SLOT" --no-rollup -f csv)
SQL=$(best sql "$B/vnd" query -d "$DB" -f csv --timeout 600 "$(cat "$W/q.sql")")
FLOOR=$(best floor "$B/vnd" query -d "$DB" -f csv \
    "select count(ts), count(start_ts), count(end_ts), count(packets), count(bytes) from flows")
BYFLOW=$(best byflow "$B/vnd" diag throughput -d "$DB" -t flows --slot "$SLOT" --by-flow -f csv)
# a program's start, the floor of any answer
START=$(best start "$B/vnd" query -d "$DB" -f csv "select 1")
SLOTS=$(($(grep -vc '^#' "$W/out.step") - 1))
if ! cmp -s <(grep -v '^#' "$W/out.step" | cut -d, -f1,5) <(grep -v '^#' "$W/out.sql" | cut -d, -f1,5); then
    echo "# note: the step's and the SQL's t and records columns differ"
fi
if ! cmp -s <(grep -v '^#' "$W/out.step" | cut -d, -f1,5) <(grep -v '^#' "$W/out.rollup" | cut -d, -f1,5); then
    echo "# note: the rollup's and the step's t and records columns differ"
fi
rate() { awk -v r="$ROWS" -v s="$1" 'BEGIN { printf "%.2f M", r / s / 1e6 }'; }
printf '%-34s %10s %16s\n' "" "seconds" "records/s"
printf '%-34s %10s %16s\n' "throughput (the rollup)" "$ROLLUP" "$(rate "$ROLLUP")"
printf '%-34s %10s %16s\n' "throughput (C step)" "$STEP" "$(rate "$STEP")"
printf '%-34s %10s %16s\n' "throughput (its SQL, vnd query)" "$SQL" "$(rate "$SQL")"
printf '%-34s %10s %16s\n' "floor (reading the five columns)" "$FLOOR" "$(rate "$FLOOR")"
printf '%-34s %10s %16s\n' "throughput --by-flow (C step)" "$BYFLOW" "$(rate "$BYFLOW")"
printf '%-34s %10s %16s\n' "a program's start (select 1)" "$START" ""
awk -v a="$SQL" -v b="$STEP" -v f="$FLOOR" -v n="$SLOTS" \
    'BEGIN { printf "the step: %.1fx faster than the SQL, %.1fx the floor'"'"'s time; %d slots out\n", a / b, b / f, n }'
awk -v r="$ROLLUP" -v b="$STEP" -v s="$START" \
    'BEGIN { printf "the rollup: %.1fx faster than the step (%.3f s over a program'"'"'s start)\n", b / r, r - s }'
