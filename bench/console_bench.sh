#!/usr/bin/env bash
# console_bench.sh — the web console with a 1,000,000-row trace: the time
# from "Run" (throughput) to the first drawn chart in headless Chromium,
# beside the reference: the same aggregated request made by curl.  The page
# asks the API for the app's slots (one row per second), never for the rows.
#
# The bed (`vnd testbed up`, root, OVS) gives a diagnosis with a trace
# ids_out; its table on the table server is then filled with ROWS rows
# (60 s of packets) by sqlite3, as capture would have.
#   bench/console_bench.sh [ROWS]        (default 1000000; RUNS=5)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
VND=${VND:-$TOP/$BUILD/vnd}
BIN=$(cd "$(dirname "$VND")" && pwd)
export VND_TABLED=${VND_TABLED:-$BIN/vnd-tabled} VND_CONTROLD=${VND_CONTROLD:-$BIN/vnd-controld}
ROWS=${1:-1000000}
RUNS=${RUNS:-5}
[ "$(id -u)" -eq 0 ] || { echo "console_bench: needs root (the test bed)"; exit 0; }
for t in node sqlite3 curl jq /usr/bin/chromium ovs-vswitchd; do
    command -v $t >/dev/null || { echo "console_bench: $t is not installed"; exit 0; }
done
[ -f "$TOP/www/vendor/uPlot.esm.js" ] || make -C "$TOP" www >/dev/null
[ -d "$TOP/tests/browser/node_modules/playwright-core" ] ||
    (cd "$TOP/tests/browser" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null 2>&1)
W=$(mktemp -d /tmp/vnd-console-bench.XXXXXX)
BED=$W/bed
trap '[ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >/dev/null 2>&1; rm -rf "$W"' EXIT
source "$TOP/tests/lib.sh"
bed_lock || { echo "console_bench: the OVS bed lock was not free"; exit 1; }
"$VND" testbed up --dir "$BED" --port-base 7520 >"$W/up.log" 2>&1 9>&- ||
    { echo "console_bench: vnd testbed up failed"; tail -3 "$W/up.log"; exit 1; }
source "$BED/env"
ID=$(curl -s -H "Authorization: Bearer $VND_TOKEN_ALICE" \
     -d '{"collect": "Appliance Node : ids\nCap output\nproto=UDP\ndstPort=9\n"}' "$VND_URL/v1/diagnoses" | jq -r .id)
DB=$(ls "$BED"/hv1/traces.db.tenants/alice-"$ID".db)
t0=$(date +%s.%N)
sqlite3 "$DB" "PRAGMA busy_timeout = 10000;
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS - 1)
  INSERT INTO ids_out (ts, id, src_ip, dst_ip, proto, src_port, dst_port, seq, ack, flags, payload_len)
  SELECT 1700000000 + i * 60.0 / $ROWS, i, '10.0.1.2', '10.0.2.2', 6, 40000 + i % 8, 5201,
         i * 1448, 1, 16, 1448 FROM n;" >/dev/null
echo "# $ROWS rows into ids_out of $ID in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
N=$(curl -s -H "Authorization: Bearer $VND_TOKEN_ALICE" -d '{"sql": "select count(*) as n from ids_out"}' \
    "$VND_URL/v1/diagnoses/$ID/query" | jq '.[0].n')
echo "# the API counts $N rows"
# reference: the request the page makes, by curl (median of RUNS)
for _ in $(seq "$RUNS"); do
    curl -s -o "$W/thr.json" -w '%{time_total}\n' -H "Authorization: Bearer $VND_TOKEN_ALICE" \
        -d '{"app": "throughput", "options": {"table": "ids_out", "slot": 1}, "format": "json"}' \
        "$VND_URL/v1/diagnoses/$ID/diag"
done | sort -n >"$W/ref"
REF=$(sed -n "$(( (RUNS + 1) / 2 ))p" "$W/ref")
echo "# the throughput answer: $(jq length "$W/thr.json") slots, $(wc -c <"$W/thr.json") bytes"
OUT=$(VND_URL=$VND_URL TOKEN_A=$VND_TOKEN_ALICE DIAG=$ID TABLE=ids_out RUNS=$RUNS \
      node "$TOP/tests/browser/console.mjs" bench 2>&1)
grep '^#' <<<"$OUT"
FC=$(sed -n 's/^first-chart-ms \([0-9]*\).*/\1/p' <<<"$OUT")
printf '%-58s %10s\n' "console, $ROWS-row trace" "value"
printf '%-58s %8.0f ms\n' "reference: POST .../diag throughput by curl (median)" "$(awk -v r="$REF" 'BEGIN { print r * 1000 }')"
printf '%-58s %8s ms\n' "Run -> first drawn chart in Chromium (median of $RUNS)" "${FC:-?}"
[ -n "$FC" ]
