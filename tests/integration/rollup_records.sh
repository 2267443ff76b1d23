#!/usr/bin/env bash
# rollup_records.sh — a live ipfix trace's rollup (ingest/rollup_records.h,
# docs/rollups.md "Flow records").  bench/flowsend sends a vnd-tabled's
# IPFIX collector 3,000 messages of OVS's template over 3 s (48,000
# records of 1–2 s, which end out of their start order); then throughput
# of the table, from the CLI and through POST /v1/diag, must come from
# the rollup and give the rows' answer (--no-rollup) slot for slot: the
# same t and records, the packets, bytes and bit/s to their rounding.  A
# question the rollup cannot answer (--by-flow, --where, half seconds)
# reads the rows and says why; another tenant cannot read the rollup.
# `vnd diag --follow`, started before the records come, prints each slot
# once it is complete: the final answer's slot.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
SEND=${VND_BUILD:-build}/bench/flowsend
VND=${VND_BUILD:-build}/vnd
for f in "$SEND" "$VND"; do
    [ -e "$f" ] || { not_ok "$f is not built (make)"; done_testing; exit 1; }
done
tabled_setup rollrec 47451 120
tabled_start --ipfix-listen 127.0.0.1:47452
check "vnd-tabled collects IPFIX" test $? -eq 0
api POST /v1/traces '{"id":"flows","tag":1,"mode":"ipfix","tenant":"alice"}'
check_eq "alice's ipfix trace: 201" "$CODE" 201
api POST /v1/traces '{"id":"other","tag":2,"mode":"ipfix","tenant":"bob"}'
check_eq "bob's: 201" "$CODE" 201
DB=$W/t.db.tenants/alice.db
# --follow while the records come: each slot printed once no record still
# to come can reach it, so every slot it prints is the final one
"$VND" diag throughput -d "$DB" -t flows -f csv --follow --interval 0.3 >"$W/follow.csv" 2>&1 &
FPID=$!
CLEANUP_PIDS="$FPID"
nsx "$SEND" -k ipfix -d 127.0.0.1:47452 -n 3000 -p 1000 -i 1 -s 11 >/dev/null
check "flowsend sent 3,000 messages of 16 records" test $? -eq 0
q() { "$VND" query -d "$DB" -f csv "$1" | sed 1d | tr -d '"'; }
for _ in $(seq 50); do
    [ "$(q "select rollup_packets from vnd_meta where trace = 'flows'")" = 48000 ] && break
    sleep 0.2
done
check_eq "vnd_meta: the rollup, its status and the records it holds" \
    "$(q "select rollup || ' ' || rollup_status || ' ' || rollup_packets || ' ' || packets_stored from vnd_meta where trace = 'flows'")" \
    "flows__rollup rollup-records 48000 48000"
check "a row per second, not per record ($(q 'select count(*) from flows__rollup') rows)" \
    test "$(q 'select count(*) from flows__rollup')" -lt 100

# same A B: the rollup's CSV A and the rows' B alike, t and records
# exactly, the rest within 1e-9
same() {
    awk -F, 'NR == FNR { a[FNR] = $0; n = FNR; next }
        { if (!(FNR in a)) { bad = 1; exit }
          split(a[FNR], x, ","); if (length(x) != NF) { bad = 1; exit }
          for (i = 1; i <= NF; i++) {
              if (FNR == 1 || i == 1 || i == NF) { if (x[i] != $i) bad = 1; continue }
              d = x[i] - $i; if (d < 0) d = -d; m = ($i < 0 ? -$i : $i); if (m < 1) m = 1
              if (d > 1e-9 * m) bad = 1 } }
        END { exit bad || FNR != n || n < 3 }' "$1" "$2"
}
for slot in 1 2 5; do
    "$VND" diag throughput -d "$DB" -t flows --slot $slot --show-sql >"$W/sql" 2>&1
    check "throughput, slot $slot s: from the rollup" grep -q "answered from the rollup" "$W/sql"
    "$VND" diag throughput -d "$DB" -t flows --slot $slot -f csv >"$W/a.csv"
    "$VND" diag throughput -d "$DB" -t flows --slot $slot -f csv --no-rollup >"$W/b.csv"
    check "... the rows' answer, slot for slot ($(($(wc -l <"$W/a.csv") - 1)) slots)" \
        same "$W/a.csv" "$W/b.csv" || { sed 's/^/#   rollup: /' "$W/a.csv" | head -5; sed 's/^/#   rows:   /' "$W/b.csv" | head -5; }
done
total=$(awk -F, 'NR > 1 { p += $2 } END { printf "%.0f", p }' "$W/a.csv")
sleep 1
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null
"$VND" diag throughput -d "$DB" -t flows -f csv >"$W/final.csv"
# followed slots: t, packets, bytes, records as the final answer has them
# (1e-6: a record of the same message as the newest may end a millisecond
# before it)
fol=$(awk -F, 'NR == FNR { if ($1 ~ /^[0-9]/) f[$1] = $0; next }
    $1 ~ /^[0-9]/ { n++; split(f[$1], x, ","); if (!($1 in f)) { bad++; next }
        for (i = 2; i <= NF; i++) { d = x[i] - $i; if (d < 0) d = -d
            if (d > 1e-6 * (x[i] < 0 ? -x[i] : x[i]) + 1e-9) bad++ } }
    END { print n + 0, bad + 0 }' "$W/final.csv" "$W/follow.csv")
read -r nfol badfol <<<"$fol"
check "--follow printed $nfol slots while the records came, each the final slot ($badfol differ)" \
    test "$nfol" -ge 2 -a "$badfol" -eq 0 || sed 's/^/#   /' "$W/follow.csv" | head -20
check_eq "... each slot once" "$(grep -c '^[0-9]' "$W/follow.csv")" \
    "$(grep '^[0-9]' "$W/follow.csv" | cut -d, -f1 | sort -u | wc -l)"
check_eq "every packet the records carry is in some slot" "$total" "$(q 'select sum(packets) from flows')"
api POST /v1/diag '{"app": "throughput", "options": {"table": "flows", "slot": 2}, "show_sql": true, "tenant": "alice"}'
check "POST /v1/diag: from the rollup too" grep -q "answered from the rollup" <<<"$BODY"
api POST /v1/diag '{"app": "throughput", "options": {"table": "flows", "slot": 2}, "format": "csv", "tenant": "alice"}'
"$VND" diag throughput -d "$DB" -t flows --slot 2 -f csv >"$W/c.csv"
check_eq "... the CLI's rows" "$CODE $(sed '/^$/d' <<<"$BODY")" "200 $(sed '/^$/d' "$W/c.csv")"
# "complete": the slots no record still to come can reach, those before
# the newest ts less the rollup's settle
read -r newest settle t0 < <(q "select max(newest), max(settle), min(slot) from flows__rollup" | tr ',' ' ')
done_t=$(awk -v n="$newest" -v s="$settle" -v t="$t0" 'BEGIN { printf "%.0f", int(n - t - s) }')
api POST /v1/diag '{"app": "throughput", "options": {"table": "flows"}, "format": "csv", "complete": true, "tenant": "alice"}'
"$VND" diag throughput -d "$DB" -t flows -f csv >"$W/all.csv"
check_eq "POST /v1/diag \"complete\": the slots before t = $done_t (settle $settle s)" \
    "$CODE $(sed '/^$/d' <<<"$BODY")" \
    "200 $(awk -F, -v d="$done_t" '!($1 ~ /^[0-9]/ && $1 + 0 >= d)' "$W/all.csv" | sed '/^$/d')"
for args in "--by-flow" "--where tcp.dst=5201" "--slot 0.5"; do
    # shellcheck disable=SC2086
    "$VND" diag throughput -d "$DB" -t flows $args --show-sql >"$W/sql" 2>&1
    check "throughput $args: from the rows, saying why ($(head -c 120 "$W/sql" | tr '\n' ' '))" \
        grep -q "^/\* from the rows, not the rollup flows__rollup: " "$W/sql"
done
# bob's database has no such table, and his guard lets him name no other
"$VND" query -d "$W/t.db" --tenant bob "select count(*) from flows__rollup" >"$W/bob" 2>&1
check "bob cannot read alice's rollup ($(head -1 "$W/bob"))" grep -q "no such table" "$W/bob"
api POST /v1/diag '{"app": "throughput", "options": {"table": "flows__rollup"}, "tenant": "bob"}'
check_eq "... nor through the API: 400" "$CODE" 400
done_testing
