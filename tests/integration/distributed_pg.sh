#!/usr/bin/env bash
# distributed_pg.sh — the distributed mode's coordinator (control/
# coordinator.h, docs/distributed.md) on three private PostgreSQL
# instances: a coordinator and two table servers, each prepared with
# scripts/vnd-pg-setup, Unix sockets only, password logins for the
# control server's and the coordinator's roles.  A diagnosis of tenant
# alice has the demo chain's capture points A and B (the IDS's input) on
# table server ts1 and C (its output) on ts2, in the table servers'
# layout (schema "alice-d1", vnd_rowid first, vnd_meta).  Checked through
# the coordinator code as vnd-controld calls it (tests/tools/coord.c):
#   - throughput, rtt, delay, loss, correlate and bottleneck give the
#     rows `vnd diag` gives on SQLite (numbers to 1e-6 relative); the
#     apps a rollup answers read the table servers' rollups, as embedded
#     mode does, and say so in their SQL;
#   - EXPLAIN VERBOSE: the remote SQL carries the WHERE and the GROUP BY;
#   - a join of B (ts1) and C (ts2) works;
#   - isolation: no other tenant's views, no foreign tables, no
#     passwords, no CREATE, SET ROLE, set_config, DO, COPY TO PROGRAM,
#     lo_import, dblink, pg_read_file, foreign server options;
#   - a runaway query stops at the time limit;
#   - ts2 stopped: a query on C names capture point C, not a host or
#     socket; A and B still answer;
#   - dropping the diagnosis leaves nothing of it on the coordinator.
# Everything lives in a temporary directory; the instances are stopped
# and removed on exit, failure included.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-pg.sh"
TOOL=${VND_BUILD:-$(dirname "$VND")}/tests/tool_coord
SETUP=$(cd "$(dirname "$0")/../.." && pwd)/scripts/vnd-pg-setup
pg_need "distributed mode" fdw
[ -x "$TOOL" ] || { not_ok "no $TOOL (make builds it)"; done_testing; exit; }
W=$(mktemp -d /tmp/vnd-dist.XXXXXX)
chmod 755 "$W"; chown postgres "$W"   # sockets and logs live here
# a sanitizer build's reports, error paths included, land here (checked at the end)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:log_path=$W/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}:log_path=$W/asan"
INSTANCES="c ts1 ts2"
cleanup() { pg_stop_all; rm -rf "$W"; }
trap cleanup EXIT
for i in $INSTANCES; do
    pg_start "distributed mode" "$W/$i" "$W/s$i"
done
# the superuser (vnd) by trust; every other role by password, as in production
for i in $INSTANCES; do
    printf 'local all vnd trust\nlocal all all scram-sha-256\n' > "$W/$i/pg_hba.conf"
    chown postgres "$W/$i/pg_hba.conf"
done
umask 077
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$W/coord.pw"
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$W/fdw.pw"
umask 022
setup() {   # INSTANCE MODE ARGS...
    local i=$1; shift
    PGHOST=$W/s$i PGUSER=vnd "$SETUP" "$@" --from local --hba "$W/$i/pg_hba.conf" >"$W/setup-$i.log" 2>&1
}
if setup c coordinator --role vnd_coord --db vnd_coord --password-file "$W/coord.pw" &&
   setup ts1 table-server --role vnd_fdw --db vnd --password-file "$W/fdw.pw" &&
   setup ts2 table-server --role vnd_fdw --db vnd --password-file "$W/fdw.pw"; then
    ok "vnd-pg-setup prepared the coordinator and both table servers"
else
    not_ok "vnd-pg-setup failed: $(cat "$W"/setup-*.log | tail -5)"; done_testing; exit
fi
check "pg_hba.conf: the coordinator role from the socket, by password" \
    grep -qx "local vnd_coord vnd_coord scram-sha-256" "$W/c/pg_hba.conf"
psql_() { local i=$1; shift; "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W/s$i" -U vnd "$@"; }

# ---- trace tables in the table servers' layout ----
"$VND" demo --generate-only --duration 1.5 --join 0.5 --dir "$W" >/dev/null 2>&1
"$VND" parse -q -o "$W/t.db" A="$W/A.pcap" B="$W/B.pcap" C="$W/C.pcap"
COLS="vnd_rowid bigint, ts double precision, id bigint, src_ip text, dst_ip text, proto bigint,
      src_port bigint, dst_port bigint, seq bigint, ack bigint, flags bigint, payload_len bigint"
META="trace text, tbl text, tenant text, cap_point text, direction text, pattern text, source text,
      linktype bigint, parse_filter text, parse_fields text, packets_seen bigint,
      packets_matched bigint, packets_stored bigint, sampled_out bigint, dropped_kernel bigint,
      dropped_queue bigint, decode_anomalies bigint, sampling bigint, snaplen bigint,
      first_ts double precision, last_ts double precision, status text, message text,
      updated double precision, flow_sampling double precision, malformed bigint,
      rollup text, rollup_status text, rollup_packets bigint"
# a table's rollup (ingest/rollup.h) as the PostgreSQL store keeps it
ROLLUP="vnd_rowid bigint, slot bigint NOT NULL, src_ip text, src_port bigint, dst_ip text,
      dst_port bigint, proto bigint, kind bigint, packets bigint NOT NULL, bytes bigint NOT NULL,
      flags bigint, ts_min double precision, ts_max double precision, rtt_n bigint,
      rtt_sum double precision, rtt_min double precision, rtt_max double precision,
      rtt_sketch text, flow text"
SAMPLING="trace text, tbl text, from_ts double precision, sampling bigint, method text,
      flow_sampling double precision, reason text, snaplen bigint"
load() {    # INSTANCE SCHEMA TABLE...
    local i=$1 schema=$2 t; shift 2
    psql_ "$i" -d vnd -c "CREATE SCHEMA IF NOT EXISTS \"$schema\"" \
        -c "CREATE TABLE IF NOT EXISTS \"$schema\".vnd_meta ($META, store_lost bigint)" \
        -c "CREATE TABLE IF NOT EXISTS \"$schema\".vnd_sampling ($SAMPLING)"
    for t in "$@"; do
        "$VND" query -d "$W/t.db" -f csv "select rowid as vnd_rowid, * from $t" > "$W/$t.csv"
        # the contract's columns
        "$VND" query -d "$W/t.db" -f csv "select $(tr ',' '\n' <<<"$META" | awk 'NF { print $1 }' | paste -sd,) from vnd_meta where tbl = '$t'" > "$W/$t.meta.csv"
        psql_ "$i" -d vnd -c "CREATE TABLE \"$schema\".\"$t\" ($COLS)" \
            -c "\\copy \"$schema\".\"$t\" FROM '$W/$t.csv' WITH (FORMAT csv, HEADER true)" \
            -c "\\copy \"$schema\".vnd_meta ($(tr ',' '\n' <<<"$META" | awk 'NF { print $1 }' | paste -sd,)) FROM '$W/$t.meta.csv' WITH (FORMAT csv, HEADER true)" \
            -c "INSERT INTO \"$schema\".vnd_sampling VALUES ('$t', '$t', 0, 1, 'count', 1, 'configured', 0)" \
            -c "ANALYZE \"$schema\".\"$t\""
        # its rollup, the sketches as bytea
        "$VND" query -d "$W/t.db" -f csv "select rowid as vnd_rowid, $(tr ',' '\n' <<<"$ROLLUP" | awk 'NF && $1 != "vnd_rowid" { print $1 }' | paste -sd, | sed 's/rtt_sketch/case when rtt_sketch is null then null else hex(rtt_sketch) end/') from ${t}__rollup" > "$W/$t.rollup.csv"
        psql_ "$i" -d vnd -c "CREATE TABLE \"$schema\".\"${t}__rollup\" ($ROLLUP)" \
            -c "\\copy \"$schema\".\"${t}__rollup\" FROM '$W/$t.rollup.csv' WITH (FORMAT csv, HEADER true)" \
            -c "ALTER TABLE \"$schema\".\"${t}__rollup\" ALTER rtt_sketch TYPE bytea USING decode(rtt_sketch, 'hex')"
    done
}
load ts1 alice-d1 A B
load ts2 alice-d1 C
load ts1 bob-d2 A
load ts1 carol-d3 A    # one table on two hosts (one Table ID over traces on both)
load ts2 carol-d3 A
check_eq "ts2 holds C's rows" "$(psql_ ts2 -d vnd -At -c 'select count(*) from "alice-d1"."C"')" \
    "$("$VND" query -d "$W/t.db" -f csv 'select count(*) from C' | tail -1)"

# ---- the coordinator ----
CI="host=$W/sc dbname=vnd_coord user=vnd_coord"
co() { "$TOOL" -p "$W/coord.pw" -t "${TIMEOUT:-60}" -m "${MEMORY:-0}" ${COMPLETE:+-c} "$CI" "$@"; }
PTS="ts1:A ts1:B ts2:C"
if co server ts1 "host=$W/sts1 dbname=vnd user=vnd_fdw" "$W/fdw.pw" 2>"$W/err" &&
   co server ts2 "host=$W/sts2 dbname=vnd user=vnd_fdw" "$W/fdw.pw" 2>>"$W/err" &&
   co create alice 1 $PTS 2>>"$W/err" && co create bob 2 ts1:A 2>>"$W/err"; then
    ok "foreign servers, diagnosis d1 of alice (A, B on ts1; C on ts2) and d2 of bob"
else
    not_ok "coordinator setup: $(cat "$W/err")"; done_testing; exit
fi
co server ts1 "host=$W/sts1 dbname=vnd user=vnd_fdw" "$W/fdw.pw" && co create alice 1 $PTS
check "making them again changes nothing (idempotent)" [ $? = 0 ]
q() { co query alice 1 "${FMT:-csv}" "$1" $PTS; }
check_eq "alice reads C (ts2) through her view" "$(q 'select count(*) from "C"' | tail -1)" \
    "$("$VND" query -d "$W/t.db" -f csv 'select count(*) from C' | tail -1)"
check_eq "her vnd_meta: her three tables, from both hosts" \
    "$(q 'select string_agg(tbl, $$+$$ order by tbl) from vnd_meta' | tail -1)" "A+B+C"
check_eq "her vnd_sampling: her three tables' rates, from both hosts" \
    "$(q 'select string_agg(tbl || $$:$$ || sampling || $$:$$ || method, $$+$$ order by tbl) from vnd_sampling' | tail -1)" \
    "A:1:count+B:1:count+C:1:count"
check_eq "the views show the rule's columns, not vnd_rowid" \
    "$(q 'select * from "A" limit 0' | head -1)" \
    "ts,id,src_ip,dst_ip,proto,src_port,dst_port,seq,ack,flags,payload_len"

# ---- the apps: the same rows as embedded mode ----
same_rows() {
    awk -F, 'NR == FNR { a[FNR] = $0; n = FNR; next }
        { if (!(FNR in a)) { bad = "extra row " FNR; exit }
          m = split(a[FNR], x, ","); k = split($0, y, ",")
          if (m != k) { bad = "row " FNR ": " m " vs " k " fields"; exit }
          for (i = 1; i <= m; i++) {
              if (x[i] == y[i]) continue
              if (x[i] ~ /^-?[0-9.e+-]+$/ && y[i] ~ /^-?[0-9.e+-]+$/) {
                  d = x[i] - y[i]; if (d < 0) d = -d
                  s = (x[i] < 0 ? -x[i] : x[i]) + 1e-9
                  if (d / s < 1e-6 || d < 1e-9) continue
              }
              bad = "row " FNR " field " i ": " x[i] " vs " y[i]; exit
          }
          rows = FNR }
        END { if (!bad && rows != n) bad = "rows: " n " vs " rows
              if (bad) { print bad; exit 1 } }' "$1" "$2"
}
app() {     # NAME OPTIONS-JSON VND-DIAG-ARGS...
    local name=$1 json=$2; shift 2
    "$VND" diag "$@" -d "$W/t.db" -f csv > "$W/lite.csv" 2>"$W/err" || { not_ok "$name: vnd diag: $(cat "$W/err")"; return; }
    local t0=$(date +%s%N)
    if ! co diag alice 1 csv "$name" "$json" $PTS > "$W/coord.csv" 2>"$W/err"; then
        not_ok "$name on the coordinator: $(cat "$W/err")"; return
    fi
    local ms=$((($(date +%s%N) - t0) / 1000000)) why
    if why=$(same_rows "$W/lite.csv" "$W/coord.csv"); then
        ok "$name: $(($(wc -l < "$W/lite.csv") - 1)) rows, the same on the coordinator (${ms} ms)"
    else
        not_ok "$name: the coordinator differs: $why"
    fi
}
app throughput '{"table":"A","slot":0.5}' throughput -t A --slot 0.5
# "complete": every slot but the newest packet's
COMPLETE=1 co diag alice 1 csv throughput '{"table":"A","slot":0.5}' $PTS >"$W/coord-c.csv" 2>"$W/err"
last=$(awk -F, 'NR > 1 && $1 ~ /^[0-9]/ { t = $1 } END { print t }' "$W/coord.csv")
check_eq "throughput, complete: every slot of A but the newest packet's ($last) $(cat "$W/err")" \
    "$(cat "$W/coord-c.csv")" "$(awk -F, -v l="$last" '!($1 ~ /^[0-9]/ && $1 == l)' "$W/coord.csv")"
# ... at a slot's edge: 7 x 787 us after t0 is, in doubles, in slot 6
# (floor((ts - t0) / slot)) yet not before t0 + 7 slots; the complete
# slots are bounded by slot index, as in embedded mode (diag_cli.sh), so
# the seventh slot keeps that row: 9 packets (a time bound left 8)
psql_ ts1 -d vnd -c 'CREATE SCHEMA "alice-d5"' \
    -c "CREATE TABLE \"alice-d5\".vnd_meta ($META, store_lost bigint)" \
    -c "CREATE TABLE \"alice-d5\".vnd_sampling ($SAMPLING)" \
    -c "CREATE TABLE \"alice-d5\".\"E\" ($COLS)" \
    -c "INSERT INTO \"alice-d5\".\"E\" (vnd_rowid, ts, payload_len)
        SELECT row_number() OVER (), 1700000000.123456::float8 + n::float8 * 1e-6::float8, 10
        FROM (SELECT generate_series(0, 6000, 100) AS n UNION ALL SELECT 5509) g" \
    -c "INSERT INTO \"alice-d5\".vnd_meta (trace, tbl, source, sampling, status, packets_stored)
        VALUES ('E', 'E', 'mirror', 1, 'stopped', 62)" \
    -c "INSERT INTO \"alice-d5\".vnd_sampling VALUES ('E', 'E', 0, 1, 'count', 1, 'configured', 0)" \
    -c "CREATE TABLE \"alice-d5\".\"R\" ($COLS)" \
    -c "WITH d AS (SELECT n, row_number() OVER (ORDER BY n) AS i
                   FROM (SELECT generate_series(0, 6000, 100) AS n UNION ALL SELECT 5509) g)
        INSERT INTO \"alice-d5\".\"R\" (vnd_rowid, ts, src_ip, dst_ip, proto, src_port, dst_port, seq, ack, flags, payload_len)
        SELECT 2 * i, 1700000000.123456::float8 + n::float8 * 1e-6::float8, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 1000 + 10 * i, 1, 24, 10 FROM d
        UNION ALL SELECT 2 * i + 1, 1700000000.123456::float8 + (n + 50)::float8 * 1e-6::float8,
                         '10.0.0.2', '10.0.0.1', 6, 80, 1000, 1, 1010 + 10 * i, 16, 0 FROM d" \
    -c "INSERT INTO \"alice-d5\".vnd_meta (trace, tbl, source, sampling, status, packets_stored)
        VALUES ('E', 'R', 'mirror', 1, 'stopped', 124)" \
    -c "INSERT INTO \"alice-d5\".vnd_sampling VALUES ('E', 'R', 0, 1, 'count', 1, 'configured', 0)" \
    >"$W/edge.log" 2>&1 && co create alice 5 ts1:E ts1:R 2>>"$W/edge.log"
check "edge tables E and R (diagnosis d5): $(tail -1 "$W/edge.log")" test $? = 0
COMPLETE=1 co diag alice 5 csv throughput '{"table":"E","slot":0.000787}' ts1:E ts1:R >"$W/edge.csv" 2>"$W/err"
check_eq "complete at a slot's edge: 7 slots, the seventh's 9 packets $(cat "$W/err")" \
    "$(awk -F, 'NR > 1 && $1 ~ /^[0-9]/ { n++; p = $2 } END { print n "," p }' "$W/edge.csv")" "7,9"
# rtt's SQL (the C step's in diag_cli.sh): a sample at the edge, by its
# data packet's slot
COMPLETE=1 co diag alice 5 csv rtt '{"table":"R","slot":0.000787,"no_rollup":true}' ts1:E ts1:R >"$W/rtt-edge.csv" 2>"$W/err"
check_eq "complete rtt at a slot's edge: 7 slots, the seventh's 9 samples $(cat "$W/err")" \
    "$(awk -F, 'NR > 1 && $1 ~ /^[0-9]/ { n++; p = $2 } END { print n "," p }' "$W/rtt-edge.csv")" "7,9"
app rtt        '{"table":"B","no_rollup":true}' rtt -t B --no-rollup
app delay      '{"in":"B","out":"C"}' delay --in B --out C
app loss       '{"in":"B","out":"C"}' loss --in B --out C
app correlate  '{"in":"A","out":"C","by":"id"}' correlate --in A --out C --by id
app bottleneck '{"path":["A","B","C"]}' bottleneck --path A,B,C
check "bottleneck's verdict as on SQLite" \
    [ "$(grep '^# verdict' "$W/coord.csv")" = "$(grep '^# verdict' "$W/lite.csv")" ]
# loss while C (ts2) is still being stored: its vnd_meta.updated half a
# second before its newest row; the coordinator judges B's rows as
# embedded mode does and counts those waiting on ts1, where they are
UPD=$(psql_ ts2 -d vnd -At -c 'select updated from "alice-d1".vnd_meta where tbl = $$C$$')
U=$(psql_ ts2 -d vnd -At -c 'select max(ts) - 0.5 from "alice-d1"."C"')
psql_ ts2 -d vnd -c "UPDATE \"alice-d1\".vnd_meta SET updated = $U WHERE tbl = 'C'"
cp "$W/t.db" "$W/w.db"
sqlite3 "$W/w.db" "UPDATE vnd_meta SET updated = $U WHERE tbl = 'C'"
"$VND" diag loss --in B --out C -d "$W/w.db" -f csv >"$W/lite.csv" 2>&1
co diag alice 1 csv loss '{"in":"B","out":"C"}' $PTS >"$W/coord.csv" 2>"$W/err"
why=$(same_rows "$W/lite.csv" "$W/coord.csv")
check "loss while C is still being stored: the same rows as embedded mode $why" test -z "$why"
co diag alice 1 json loss '{"in":"B","out":"C"}' $PTS >"$W/wait.json" 2>"$W/err"
check_eq "... its JSON counts B's rows not judged yet, as embedded mode does $(cat "$W/err")" \
    "$(jq -c '.waiting' "$W/wait.json")" \
    "$("$VND" diag loss --in B --out C -d "$W/w.db" -f json | jq -c '.waiting')"
check "... some ($(jq -r '.waiting[0].rows' "$W/wait.json") rows)" jq -e '.waiting[0].rows > 0' "$W/wait.json"
# what C's capture dropped, said as embedded mode says it
psql_ ts2 -d vnd -c "UPDATE \"alice-d1\".vnd_meta SET dropped_kernel = 7, dropped_queue = 1 WHERE tbl = 'C'"
sqlite3 "$W/w.db" "UPDATE vnd_meta SET dropped_kernel = 7, dropped_queue = 1 WHERE tbl = 'C'"
co diag alice 1 json loss '{"in":"B","out":"C"}' $PTS >"$W/drops.json" 2>"$W/err"
check_eq "... and what C's capture dropped, from its host's vnd_meta $(cat "$W/err")" \
    "$(jq -c '.capture_drops | map([.table, .dropped_kernel, .dropped_queue])' "$W/drops.json")" '[["C",7,1]]'
check_eq "... as embedded mode says it" "$(jq -c '.capture_drops' "$W/drops.json")" \
    "$("$VND" diag loss --in B --out C -d "$W/w.db" -f json | jq -c '.capture_drops')"
co diag alice 1 json bottleneck '{"path":["A","B","C"]}' $PTS >"$W/bdrops.json" 2>"$W/err"
check_eq "... and beside the bottleneck's verdict (as loss's), as embedded mode says it $(cat "$W/err")" \
    "$(jq -c '.capture_drops' "$W/bdrops.json")|$("$VND" diag bottleneck --path A,B,C -d "$W/w.db" -f json | jq -c '.capture_drops')" \
    "$(jq -c '.capture_drops' "$W/drops.json")|$(jq -c '.capture_drops' "$W/drops.json")"
psql_ ts2 -d vnd -c "UPDATE \"alice-d1\".vnd_meta SET updated = $UPD, dropped_kernel = 0, dropped_queue = 0 WHERE tbl = 'C'"
# how the tables were sampled: from the views vnd_meta and vnd_sampling
# (one interval, 'configured'); A as if sampled 1-in-10 at its table server
co diag alice 1 json throughput '{"table":"A","slot":1000}' $PTS >"$W/samp.json" 2>"$W/err"
check "throughput's JSON says A was read whole (its rows of the views)" \
    jq -e '.sampling[0] | .table == "A" and .sampling == 1 and .treatment == "exact"' "$W/samp.json"
psql_ ts1 -d vnd -c "UPDATE \"alice-d1\".vnd_meta SET sampling = 10 WHERE tbl = 'A'" \
    -c "UPDATE \"alice-d1\".vnd_sampling SET sampling = 10 WHERE tbl = 'A'"
co diag alice 1 json throughput '{"table":"A","slot":1000}' $PTS >"$W/samp.json" 2>"$W/err"
check "A sampled 1-in-10: throughput scaled, with its interval, said so" \
    jq -e '(.sampling[0] | .sampling == 10 and .treatment == "scaled")
           and (.rows[0] | .bps_low < .bps and .bps < .bps_high)' "$W/samp.json"
co diag alice 1 csv delay '{"in":"A","out":"C"}' $PTS >/dev/null 2>"$W/err"
check "delay on A sampled 1-in-10: 400 naming A: $(cat "$W/err")" grep -q "^400: table A is sampled" "$W/err"
psql_ ts1 -d vnd -c "UPDATE \"alice-d1\".vnd_meta SET sampling = 1 WHERE tbl = 'A'" \
    -c "UPDATE \"alice-d1\".vnd_sampling SET sampling = 1 WHERE tbl = 'A'"
# A's copies cut to 128 bytes in the switch from a moment on (a host
# budget's header lever): said per interval, nothing scaled
psql_ ts1 -d vnd -c "UPDATE \"alice-d1\".vnd_meta SET snaplen = 128 WHERE tbl = 'A'" \
    -c "INSERT INTO \"alice-d1\".vnd_sampling SELECT trace, tbl, 1700000002, 1, 'count', 1, 'host budget', 128 FROM \"alice-d1\".vnd_sampling WHERE tbl = 'A' AND from_ts = 0"
co diag alice 1 json throughput '{"table":"A","slot":1000}' $PTS >"$W/samp.json" 2>"$W/err"
check "A cut to 128 bytes from a moment: each interval's bytes through the coordinator, exact" \
    jq -e '(.sampling[0] | .treatment == "exact" and ([.intervals[].snaplen] == [0, 128])
            and (.text | test("at times the first 128 bytes of each packet")))' "$W/samp.json"
psql_ ts1 -d vnd -c "UPDATE \"alice-d1\".vnd_meta SET snaplen = 0 WHERE tbl = 'A'" \
    -c "DELETE FROM \"alice-d1\".vnd_sampling WHERE tbl = 'A' AND from_ts > 0"
co diag alice 1 csv groups '{"table":"A","fields":["nope"]}' $PTS >/dev/null 2>"$W/err"
check "a column the views lack: 400 naming it: $(cat "$W/err")" grep -q "^400: .*no column 'nope'" "$W/err"

# ---- the throughput app aggregates where the rows are ----
# a window of A: half a second, 0.5 s after its first packet
WIN=$("$VND" query -d "$W/t.db" -f csv 'select printf("timestamp >= %.6f and timestamp < %.6f", min(ts) + 0.5, min(ts) + 1) from A' | tail -1 | tr -d '"')
tsql=$(co diag alice 1 sql throughput "{\"table\":\"A\",\"slot\":0.5,\"where\":\"$WIN\"}" $PTS)
FMT=table q "EXPLAIN VERBOSE ${tsql%;}" > "$W/tplan.txt" 2>&1
check "throughput: time 0 is a number in its SQL (no min(ts) subquery)" \
    bash -c '[ -n "$1" ] && ! grep -qiE "min\(|vnd_origin" <<<"$1"' _ "$tsql"
check "throughput, EXPLAIN VERBOSE: the remote SQL groups by slot (GROUP BY) and filters (WHERE)" \
    grep -q 'Remote SQL: SELECT (floor.*WHERE.*GROUP BY' "$W/tplan.txt"
app throughput "{\"table\":\"A\",\"slot\":0.5,\"where\":\"$WIN\"}" throughput -t A --slot 0.5 --where "$WIN"
app throughput '{"table":"C","by_flow":true,"no_rollup":true}' throughput -t C --by-flow --no-rollup

# ---- rollups: the apps a rollup answers read its rows, not the packets ----
# (B's rollup on ts1: a row per slot, flow and kind; the rows its SQL
# reads come here, the embedded app's SQL runs on them)
app rtt        '{"table":"B"}' rtt -t B
app rtt        '{"table":"B","by_flow":true,"kind":"data","slot":2}' rtt -t B --by-flow --kind data --slot 2
app throughput '{"table":"C","by_flow":true}' throughput -t C --by-flow
app groups     '{"table":"A","fields":["dst_port"]}' groups -t A --fields dst_port
app distribution '{"table":"C","field":"src_ip"}' distribution -t C --field src_ip
# --since/--until on slot boundaries: only the range's slots (and the
# first, time 0's) come from the table server
at() {      # TABLE D: the ts D seconds after the table's first
    awk -v t="$("$VND" query -d "$W/t.db" -f csv "select min(ts) from $1" | tail -1)" -v d="$2" \
        'BEGIN { printf "%.17g", t + d }'
}
app rtt        "{\"table\":\"B\",\"since\":$(at B 1)}" rtt -t B --since "$(at B 1)"
app throughput "{\"table\":\"A\",\"by_flow\":true,\"until\":$(at A 1)}" throughput -t A --by-flow --until "$(at A 1)"
rsql=$(co diag alice 1 sql rtt '{"table":"B"}' $PTS 2>&1)
check "rtt's SQL says it is answered from the rollup B__rollup, as embedded mode's does" \
    bash -c '[ "$(head -1 <<<"$1")" = "$(head -1 <<<"$2")" ] && grep -q "^/\* answered from the rollup B__rollup" <<<"$1"' _ \
    "$rsql" "$("$VND" diag rtt -t B -d "$W/t.db" --show-sql)"
check "... so the coordinator reads $(q 'select count(*) from "B__rollup"' | tail -1) rollup rows, not B's $(q 'select count(*) from "B"' | tail -1) packets" \
    [ "$(q 'select count(*) from "B__rollup"' | tail -1)" -lt "$(( $(q 'select count(*) from "B"' | tail -1) / 100 ))" ]
check "delay's time 0 from B's and C's rollups (a number, not a scan of both tables)" \
    bash -c '[ -n "$1" ] && ! grep -q "min(ts)" <<<"$1"' _ "$(co diag alice 1 sql delay '{"in":"B","out":"C"}' $PTS 2>&1)"
check "... and from the rows with no_rollup (min(ts) of both)" \
    grep -q "min(ts)" <<<"$(co diag alice 1 sql delay '{"in":"B","out":"C","no_rollup":true}' $PTS 2>&1)"
rsql=$(co diag alice 1 sql throughput '{"table":"A","slot":0.5}' $PTS 2>&1)
check "a question the rollup does not fit (a 0.5 s slot): the rows, and the SQL says why" \
    grep -q "^/\* from the rows, not the rollup A__rollup: the slot is not a whole number" <<<"$rsql"
psql_ ts2 -d vnd -c "UPDATE \"alice-d1\".vnd_meta SET rollup_packets = rollup_packets - 1 WHERE tbl = 'C'" >/dev/null
rsql=$(co diag alice 1 sql throughput '{"table":"C"}' $PTS 2>&1)
check "a rollup that does not hold the table's rows (vnd_meta): the rows" \
    grep -q "^/\* from the rows, not the rollup C__rollup: the rollup does not hold" <<<"$rsql"
psql_ ts2 -d vnd -c "UPDATE \"alice-d1\".vnd_meta SET rollup_packets = rollup_packets + 1 WHERE tbl = 'C'" >/dev/null

# ---- flow records and their rollup (docs/rollups.md, "Flow records") ----
# a table server writing alice's diagnosis d7 on ts1 (vnd-tabled
# --trace-store pg, IPFIX from bench/flowsend on loopback): throughput of
# the records through the coordinator reads the rollup's rows, a row a
# second, and gives the records' answer
TSPORT=$((30000 + RANDOM % 10000))
head -c 24 /dev/urandom | base64 >"$W/ts.secret"
chmod 600 "$W/ts.secret"
"${VND_BUILD:-$(dirname "$VND")}/vnd-tabled" --db "$W/rt.db" --listen "127.0.0.1:$TSPORT" \
    --secret-file "$W/ts.secret" --trace-store "pg:host=$W/sts1 user=vnd dbname=vnd" \
    --ipfix-listen "127.0.0.1:$((TSPORT + 1))" --log-file "$W/rt.log" >/dev/null 2>&1 &
RTPID=$!
trap 'kill $RTPID 2>/dev/null; stop_controld 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do
    curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$W/ts.secret")" \
        -d '{"id":"F","tag":1,"mode":"ipfix","tenant":"alice-d7"}' \
        "http://127.0.0.1:$TSPORT/v1/traces" 2>/dev/null | grep -q 201 && break
    sleep 0.1
done
"${VND_BUILD:-$(dirname "$VND")}/bench/flowsend" -k ipfix -d "127.0.0.1:$((TSPORT + 1))" \
    -n 1000 -p 500 -i 1 -s 17 >/dev/null
for _ in $(seq 100); do
    [ "$(psql_ ts1 -d vnd -At -c "select rollup_packets from \"alice-d7\".vnd_meta where tbl = 'F'" 2>/dev/null)" = 16000 ] && break
    sleep 0.1
done
kill -INT $RTPID; wait $RTPID 2>/dev/null
check_eq "a table server's 16,000 flow records on ts1, with their rollup" \
    "$(psql_ ts1 -d vnd -At -c "select rollup_status || ' ' || rollup_packets from \"alice-d7\".vnd_meta where tbl = 'F'")" \
    "rollup-records 16000"
co create alice 7 ts1:F:ipfix 2>"$W/err"
check "diagnosis d7 of alice: her records F on ts1 $(cat "$W/err")" [ $? = 0 ]
rsql=$(co diag alice 7 sql throughput '{"table":"F","slot":2}' ts1:F 2>&1)
check "throughput of the records: answered from the rollup F__rollup" \
    grep -q "^/\* answered from the rollup F__rollup: per second of the clock" <<<"$rsql"
co diag alice 7 csv throughput '{"table":"F","slot":2}' ts1:F >"$W/rec-a.csv" 2>"$W/err"
co diag alice 7 csv throughput '{"table":"F","slot":2,"no_rollup":true}' ts1:F >"$W/rec-b.csv" 2>>"$W/err"
if why=$(same_rows "$W/rec-b.csv" "$W/rec-a.csv"); then
    ok "... the records' rows, $(($(grep -vc '^#' "$W/rec-a.csv") - 1)) slots of 2 s"
else
    not_ok "... the records' rows differ: $why $(cat "$W/err")"
fi
rsql=$(co diag alice 7 sql throughput '{"table":"F","by_flow":true}' ts1:F 2>&1)
check "by flow: the records, and the SQL says why" \
    grep -q "^/\* from the rows, not the rollup F__rollup: the rollup of flow records holds the seconds' totals" <<<"$rsql"
# "complete" (the API's, what --follow asks): the records' slots before
# the newest ts less the rollup's settle
read -r newest settle t0 < <(psql_ ts1 -d vnd -At -F' ' -c "select max(newest), max(settle), min(slot) from \"alice-d7\".\"F__rollup\"")
done_t=$(awk -v n="$newest" -v s="$settle" -v t="$t0" 'BEGIN { printf "%.0f", int(n - t - s) }')
COMPLETE=1 co diag alice 7 csv throughput '{"table":"F"}' ts1:F >"$W/rec-c.csv" 2>"$W/err"
co diag alice 7 csv throughput '{"table":"F"}' ts1:F >"$W/rec-all.csv" 2>>"$W/err"
check_eq "complete: the records' slots before t = $done_t (settle $settle s) $(cat "$W/err")" \
    "$(cat "$W/rec-c.csv")" "$(awk -F, -v d="$done_t" '!($1 ~ /^[0-9]/ && $1 + 0 >= d)' "$W/rec-all.csv")"
# groups and distribution of the records: their own SQL, where they are
co diag alice 7 csv groups '{"table":"F","fields":["dst_ip"]}' ts1:F >"$W/rec-g.csv" 2>"$W/err"
check_eq "groups of the records by dst_ip: every packet they carry $(head -c 200 "$W/err")" \
    "$(awk -F, 'NR > 1 && !/^#/ { p += $2 } END { printf "%.0f", p }' "$W/rec-g.csv")" \
    "$(co query alice 7 csv 'select sum(packets) from "F"' ts1:F | tail -1)"
co diag alice 7 csv distribution '{"table":"F","field":"dst_ip"}' ts1:F >"$W/rec-d.csv" 2>"$W/err"
check "distribution of the records by dst_ip: 16 values $(head -c 200 "$W/err")" \
    [ "$(grep -vc '^#' "$W/rec-d.csv")" = 17 ]
co drop 7

# ---- pushdown and joins across hosts ----
FMT=table q "EXPLAIN VERBOSE SELECT dst_port, count(*) FROM \"C\" WHERE proto = 6 AND payload_len > 0 GROUP BY dst_port" > "$W/plan.txt" 2>&1
remote=$(grep 'Remote SQL' "$W/plan.txt")
check "EXPLAIN VERBOSE: the remote SQL filters (WHERE)" grep -q 'WHERE' <<<"$remote"
check "EXPLAIN VERBOSE: the remote SQL aggregates (GROUP BY)" grep -q 'GROUP BY' <<<"$remote"
check "EXPLAIN VERBOSE names no host or socket" sh -c "! grep -q '$W' '$W/plan.txt'"
joined=$(q 'SELECT count(*) FROM "B" b JOIN "C" c ON b.id = c.id AND b.src_ip = c.src_ip' | tail -1)
check_eq "a join of B (ts1) and C (ts2)" "$joined" \
    "$("$VND" query -d "$W/t.db" -f csv 'SELECT count(*) FROM B b JOIN C c ON b.id = c.id AND b.src_ip = c.src_ip' | tail -1)"

# ---- isolation ----
refused() {     # WHAT SQL [PATTERN]: alice's SQL is refused (status 4xx), no row comes
    local what=$1 sql=$2 pat=${3:-}
    if q "$sql" > "$W/out" 2>"$W/err"; then
        not_ok "$what: answered $(head -c 200 "$W/out")"
    elif ! grep -q '^40[03]: ' "$W/err"; then
        not_ok "$what: not a 400/403: $(cat "$W/err")"
    elif [ -n "$pat" ] && ! grep -qi "$pat" "$W/err"; then
        not_ok "$what: the message lacks '$pat': $(cat "$W/err")"
    else
        ok "$what: refused ($(head -c 90 "$W/err"))"
    fi
}
refused "bob's view"                'select count(*) from d2."A"' "permission denied"
refused "the foreign tables"        'select count(*) from vnd_remote_d1."f0_A"' "permission denied"
refused "the parts' foreign tables" 'select count(*) from vnd_remote_d1."a0_A"' "permission denied"
refused "the rollups' foreign tables" 'select count(*) from vnd_remote_d1."r1_B"' "permission denied"
refused "bob's rollup view"         'select count(*) from d2."A__rollup"' "permission denied"
refused "bob's part view"           'select count(*) from d2."A@1"' "permission denied"
refused "foreign server options"    'select srvoptions from pg_foreign_server'
refused "foreign table options"     'select ftoptions from pg_foreign_table'
refused "CREATE TABLE"              'create table d1.x (a int)'
refused "CREATE TEMP TABLE"         'create temp table x (a int)'
refused "SET ROLE"                  'set role vnd_coord'
refused "RESET ROLE, hidden"        '/* select */ reset role'
refused "SET ROLE to bob"           'set role vnd_t_bob'
refused "set_config(role)"          "select set_config('role', 'vnd_coord', true), count(*) from vnd_remote_d1.\"f0_A\""
refused "a DO block"                'do $$ begin reset role; end $$'
refused "two statements"            'reset role; select count(*) from vnd_remote_d1."f0_A"'
refused "COPY TO PROGRAM"           "copy (select 1) to program 'id'"
refused "lo_import"                 "select lo_import('/etc/passwd')"
refused "pg_read_file"              "select pg_read_file('/etc/passwd')"
refused "dblink"                    'create extension dblink'
refused "a user mapping"            'create user mapping for current_user server vnd_ts_ts1'
check_eq "information_schema shows her no server, table or mapping options" \
    "$(q "select (select count(*) from information_schema.foreign_server_options)
              + (select count(*) from information_schema.foreign_table_options)
              + (select count(*) from information_schema.user_mapping_options)" | tail -1)" 0
check_eq "pg_user_mappings shows her no password" \
    "$(q "select count(*) from pg_user_mappings where umoptions::text like '%password%'" | tail -1)" 0
check_eq "bob sees his A, not alice's B" \
    "$(co query bob 2 csv 'select count(*) from "A"' ts1:A | tail -1),$(co query bob 2 csv 'select count(*) from "B"' ts1:A 2>&1 | grep -c 'does not exist')" \
    "$("$VND" query -d "$W/t.db" -f csv 'select count(*) from A' | tail -1),1"

co create carol 3 ts1:A ts2:A
check_eq "a table held on two hosts is one view over both (UNION ALL)" \
    "$(co query carol 3 csv 'select count(*) from "A"' ts1:A ts2:A | tail -1)" \
    "$("$VND" query -d "$W/t.db" -f csv 'select 2 * count(*) from A' | tail -1)"
# throughput over it: each host's part grouped there, the sums here; the
# same slots as embedded mode's A with every count doubled
"$VND" diag throughput -t A --no-rollup -d "$W/t.db" -f csv | awk -F, 'NR == 1 { print; next } { printf "%s,%.0f,%.0f,%.17g\n", $1, 2 * $2, 2 * $3, 2 * $4 }' > "$W/lite2.csv"
co diag carol 3 csv throughput '{"table":"A"}' ts1:A ts2:A > "$W/coord2.csv" 2>"$W/err"
check "... throughput over both hosts: embedded's rows, doubled ($(($(wc -l < "$W/coord2.csv") - 1)) slots)" same_rows "$W/lite2.csv" "$W/coord2.csv"
csql=$(co diag carol 3 sql throughput '{"table":"A"}' ts1:A ts2:A)
check_eq "... EXPLAIN VERBOSE: a GROUP BY in the remote SQL of each host" \
    "$(co query carol 3 csv "EXPLAIN VERBOSE ${csql%;}" ts1:A ts2:A | grep -c 'Remote SQL: SELECT (floor.*GROUP BY')" 2
check_eq "... and its vnd_meta has the rows of both hosts" \
    "$(co query carol 3 csv 'select count(*) from vnd_meta' ts1:A ts2:A | tail -1)" 2
co drop 3

# ---- a large rollup: 10,000 flows, a statement's memory bound ----
"$VND_BUILD/bench/gen_capture" "$W/m.pcap" 100000 10000 >/dev/null
"$VND" parse -q -o "$W/t.db" M="$W/m.pcap"
load ts1 alice-d5 M
co create alice 5 ts1:M
app5() {    # as app, on diagnosis d5
    local name=$1 json=$2; shift 2
    "$VND" diag "$@" -d "$W/t.db" -f csv > "$W/lite.csv" 2>"$W/err"
    if ! co diag alice 5 csv "$name" "$json" ts1:M > "$W/coord.csv" 2>"$W/err"; then
        not_ok "$name on M: $(cat "$W/err")"
    elif why=$(same_rows "$W/lite.csv" "$W/coord.csv"); then
        ok "$name on M from its rollup of $(co query alice 5 csv 'select count(*) from "M__rollup"' ts1:M | tail -1) rows: the rows of embedded mode"
    else
        not_ok "$name on M: the coordinator differs: $why"
    fi
}
app5 rtt '{"table":"M"}' rtt -t M
app5 groups '{"table":"M","fields":["proto"]}' groups -t M --fields proto
MEMORY=2 co diag alice 5 csv rtt '{"table":"M"}' ts1:M > /dev/null 2>"$W/err"
check "a rollup past a statement's memory bound (2 MB) here: 503 saying what to do: $(head -c 200 "$W/err")" \
    grep -q "^503: stopped at the time limit or the memory bound.*no_rollup" "$W/err"
check_eq "... and the session still answers" "$(MEMORY=2 co query alice 5 csv 'select count(*) from "M"' ts1:M | tail -1)" 100000
co drop 5

# ---- a runaway query ----
t0=$SECONDS
TIMEOUT=2 co query alice 1 csv 'select count(*) from generate_series(1, 100000000) a, generate_series(1, 100000000) b' $PTS >/dev/null 2>"$W/err"
dt=$((SECONDS - t0))
check "a runaway query stops at the time limit (503, ${dt}s): $(cat "$W/err")" \
    sh -c "grep -q '^503: stopped at the time limit' '$W/err' && [ $dt -le 15 ]"

# ---- the same through vnd-controld --coordinator and the tenant API ----
# A NIB whose hosts ts1 and ts2 have table_server.postgres; their bridges
# and table servers are absent (capture is not under test here), so the
# diagnosis is put into the control server's state as a finished one, and
# the control server makes its coordinator views when it starts.
PORT=$((20000 + RANDOM % 20000))
umask 077
head -c 24 /dev/urandom | base64 > "$W/admin.secret"; head -c 24 /dev/urandom | base64 > "$W/ts.secret"
umask 022
TOKEN=alice-token-$RANDOM$RANDOM
cat > "$W/nib.json" <<NIB
{"hosts": [
  {"name": "ts1", "bridge": "vnd-absent-1", "mirror_port": 9,
   "table_server": {"url": "http://127.0.0.1:1", "secret_file": "ts.secret",
                    "postgres": {"conninfo": "host=$W/sts1 dbname=vnd user=vnd_fdw", "password_file": "fdw.pw"}}},
  {"name": "ts2", "bridge": "vnd-absent-2", "mirror_port": 9,
   "table_server": {"url": "http://127.0.0.1:1", "secret_file": "ts.secret",
                    "postgres": {"conninfo": "host=$W/sts2 dbname=vnd user=vnd_fdw", "password_file": "fdw.pw"}}}],
 "tenants": [{"id": "alice", "token_sha256": "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)",
   "nodes": [{"name": "ids", "kind": "appliance", "input": "in", "output": "out",
              "ports": [{"name": "in", "host": "ts1", "ofport": 3, "mac": "02:00:00:00:01:03"},
                        {"name": "out", "host": "ts2", "ofport": 4, "mac": "02:00:00:00:01:04"}]}]}]}
NIB
CONTROLD=${VND_CONTROLD:-$(dirname "$VND")/vnd-controld}
CDPID=
start_controld() {
    "$CONTROLD" --nib "$W/nib.json" --state "$W/state.db" --admin-secret-file "$W/admin.secret" \
        --listen "127.0.0.1:$PORT" --coordinator "$CI" --coordinator-password-file "$W/coord.pw" \
        --query-timeout 60 --query-memory 16 --reconcile-interval 86400 --www-dir none \
        --log-file "$W/controld.log" &
    CDPID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/topology" && return 0
        kill -0 "$CDPID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
stop_controld() { [ -n "$CDPID" ] && kill "$CDPID" 2>/dev/null && wait "$CDPID" 2>/dev/null; CDPID=; }
trap 'stop_controld; cleanup' EXIT
# an unprepared coordinator is refused with what to do
psql_ c -d postgres -c "CREATE DATABASE raw OWNER vnd_coord" >/dev/null
"$CONTROLD" --nib "$W/nib.json" --state "$W/state0.db" --admin-secret-file "$W/admin.secret" \
    --listen "127.0.0.1:$PORT" --coordinator "host=$W/sc dbname=raw user=vnd_coord" \
    --coordinator-password-file "$W/coord.pw" --www-dir none >"$W/raw.log" 2>&1
check "vnd-controld refuses an unprepared coordinator, saying what to run: $(tail -1 "$W/raw.log")" \
    grep -q 'not prepared for tenants.*vnd-pg-setup coordinator' "$W/raw.log"
if start_controld; then stop_controld; else not_ok "vnd-controld --coordinator did not start: $(tail -3 "$W/controld.log")"; fi
PARSE=$(printf 'Trace ID all\nTable ID %%s\nFields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto, tcp.src as src_port, udp.src as src_port, tcp.dst as dst_port, udp.dst as dst_port, tcp.seq as seq, tcp.ack as ack, tcp.flags as flags, payload.len as payload_len\n')
{
    echo "INSERT INTO diagnosis (num, tenant, state, created, ends, stopped, reason, collect, parse) VALUES (1, 'alice', 'done', $(date +%s), NULL, $(date +%s), 'test', '', '');"
    i=0
    for p in ts1:A ts1:B ts2:C; do
        i=$((i + 1)); h=${p%%:*}; t=${p#*:}
        echo "INSERT INTO trace (diag, idx, name, node, point, direction, pattern, tables, host, port, ofport, tag, bit, match, sampling, snaplen, parse_text, match_blob) VALUES (1, $i, '$t', 'ids', 'in', 'in', '', '[\"$t\"]', '$h', 'in', 3, $i, -1, '', 1, 0, '$(printf "$PARSE" "$t")', x'');"
    done
} | sqlite3 "$W/state.db"
if ! start_controld; then
    not_ok "vnd-controld --coordinator did not start: $(tail -3 "$W/controld.log")"
else
    ok "vnd-controld --coordinator up; it made d1's views at start"
    check "its log: both table servers' PostgreSQL mapped" grep -q '2 of 2 table servers' "$W/controld.log"
    check_eq "at start it dropped d2's views, a diagnosis its state does not have" \
        "$(psql_ c -d vnd_coord -At -c "select count(*) from pg_namespace where nspname in ('d2', 'vnd_remote_d2')")" 0
    export VND_URL=http://127.0.0.1:$PORT VND_TOKEN=$TOKEN
    check_eq "vnd query --diagnosis d1: C's rows through the API" \
        "$("$VND" query --diagnosis d1 -f csv 'select count(*) from "C"' 2>&1 | tail -1)" \
        "$("$VND" query -d "$W/t.db" -f csv 'select count(*) from C' | tail -1)"
    for a in "throughput -t A --slot 0.5" "delay --in B --out C" "loss --in B --out C" "bottleneck --path A,B,C"; do
        "$VND" diag $a --no-rollup -d "$W/t.db" -f csv > "$W/lite.csv" 2>&1
        "$VND" diag $a --diagnosis d1 -f csv > "$W/api.csv" 2>"$W/err"
        if why=$(same_rows "$W/lite.csv" "$W/api.csv"); then ok "vnd diag $a --diagnosis d1: the rows and verdict of embedded mode"
        else not_ok "vnd diag $a --diagnosis d1: $why $(head -2 "$W/err")"; fi
    done
    "$VND" diag bottleneck --path A,B,C -d "$W/t.db" > "$W/lite.txt" 2>&1
    "$VND" diag bottleneck --path A,B,C --diagnosis d1 > "$W/api.txt" 2>&1
    check_eq "the bottleneck's sentence, as embedded" "$(tail -1 "$W/api.txt")" "$(tail -1 "$W/lite.txt")"
    code=$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        --data-binary '{"sql": "select count(*) from vnd_remote_d1.\"f0_A\""}' "$VND_URL/v1/diagnoses/d1/query")
    check "the API: the foreign tables are 403 to alice ($code $(cat "$W/body"))" [ "$code" = 403 ]
    code=$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        --data-binary '{"app": "delay", "options": {"in": "B", "out": "C"}, "show_sql": true}' "$VND_URL/v1/diagnoses/d1/diag")
    check "the API: show_sql gives the app's PostgreSQL ($code)" sh -c "[ $code = 200 ] && jq -e '.sql | test(\"IS NOT DISTINCT FROM|WITH\")' '$W/body' >/dev/null"
    # --query-memory 16: each sort or hash 4 MB, temporary files 64 MB
    check_eq "a tenant statement's memory is bounded (work_mem, temp_file_limit)" \
        "$("$VND" query --diagnosis d1 -f csv "select current_setting('work_mem') || ' ' || current_setting('temp_file_limit')" 2>&1 | tail -1)" \
        "4MB 64MB"
    "$VND" query --diagnosis d1 -f csv "select set_config('work_mem', '1GB', true)" >"$W/out" 2>&1
    check "... and alice cannot raise it: $(tail -1 "$W/out")" grep -q 'permission denied' "$W/out"
    "$VND" query --diagnosis d1 -f csv "select count(*) from (select g from generate_series(1, 20000000) g order by g desc) s" >"$W/out" 2>&1
    check "a sort past the bound stops at its temporary files: $(tail -1 "$W/out")" \
        grep -q 'temp_file_limit' "$W/out"
fi

# ---- a table server down ----
pg "$PGBIN/pg_ctl" -D "$W/ts2" -m fast stop >/dev/null 2>&1
q 'select count(*) from "C"' > /dev/null 2>"$W/err"
check "ts2 down: a query on C fails with 503 naming capture point C: $(cat "$W/err")" \
    grep -q '^503: capture point C of this diagnosis cannot be read now' "$W/err"
check "... and never the host, server or socket" sh -c "! grep -qE 'ts2|vnd_ts|$W|socket|port' '$W/err'"
co diag alice 1 csv delay '{"in":"B","out":"C"}' $PTS > /dev/null 2>"$W/err"
check "ts2 down: an app reading C names C too" grep -q '^503: capture point C' "$W/err"
if [ -n "$CDPID" ]; then
    code=$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        --data-binary '{"sql": "select count(*) from \"C\""}' "$VND_URL/v1/diagnoses/d1/query")
    check "ts2 down, the API: 503 naming capture point C ($code $(cat "$W/body"))" \
        sh -c "[ $code = 503 ] && grep -q 'capture point C' '$W/body' && ! grep -qE 'ts2|vnd_ts|$W' '$W/body'"
fi
check_eq "ts2 down: A and B still answer" \
    "$(q 'select (select count(*) from "A") + (select count(*) from "B")' | tail -1)" \
    "$("$VND" query -d "$W/t.db" -f csv 'select (select count(*) from A) + (select count(*) from B)' | tail -1)"
pg "$PGBIN/pg_ctl" -D "$W/ts2" -w -t 30 -l "$W/ts2.log" \
    -o "-k $W/sts2 -c listen_addresses='' -c fsync=off" start >/dev/null 2>&1
check_eq "ts2 back: C answers again, nothing lost" "$(q 'select count(*) from "C"' | tail -1)" \
    "$("$VND" query -d "$W/t.db" -f csv 'select count(*) from C' | tail -1)"

# ---- dropping the diagnosis ----
co drop 1
check_eq "d1 dropped: no schema of it is left on the coordinator" \
    "$(psql_ c -d vnd_coord -At -c "select count(*) from pg_namespace where nspname in ('d1', 'vnd_remote_d1')")" 0
q 'select count(*) from "A"' >/dev/null 2>"$W/err"
check "d1 dropped: alice's query on it finds nothing: $(cat "$W/err")" grep -q '^400: .*does not exist' "$W/err"
stop_controld
check "no sanitizer report from any program: $(cat "$W"/asan.* 2>/dev/null | head -5)" \
    sh -c "! ls '$W'/asan.* >/dev/null 2>&1"
done_testing
