#!/usr/bin/env bash
# store_pg.sh — the PostgreSQL store provider (src/store/store_pg.c):
#   - `vnd parse --pg` writes the same rows, vnd_meta counters and
#     rollups as `vnd parse -o FILE.db` (SQLite) on the same captures,
#     column by column; --replace, --append and traces sharing a table (rowid slots)
#     behave as on SQLite; a bad connection or a table with other columns
#     is a clear error that loses nothing stored;
#   - vnd-tabled --trace-store pg:... files live frames into its tenant's
#     schema (the layout the coordinator relies on: docs/distributed.md),
#     refuses tenant queries with a pointer to the control server, and
#     drops the trace's table with the trace.
# Starts a private PostgreSQL in a temporary directory on a Unix socket
# only; stops and removes it on exit, failure included.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
source "$(dirname "$0")/lib-pg.sh"
pg_need "PostgreSQL store"
tabled_setup pgstore 7436 240          # sets W, NS, the cleanup trap
PGDATA="$W/pg"
chmod 755 "$W"
trap 'kill $WATCHDOG 2>/dev/null; pg_stop_all; tabled_cleanup' EXIT
pg_start "PostgreSQL store" "$PGDATA" "$W"
CONN="host=$W user=vnd dbname=postgres"
psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W" -U vnd -d postgres -At "$@"; }

# --- vnd parse: the same rows in both stores
"$VND" demo --generate-only --duration 2 --join 0.5 --dir "$W" >/dev/null 2>&1
# batches of 500 packets: a rollup's cells span batches, their rows are
# deleted and written again (delete_rowids)
"$VND" parse -q --batch 500 -o "$W/t.db" A="$W/A.pcap" B="$W/B.pcap" C="$W/C.pcap"
check "vnd parse --pg writes three traces" "$VND" parse -q --batch 500 --pg "$CONN" A="$W/A.pcap" B="$W/B.pcap" C="$W/C.pcap"
COLS="CAST(round(ts * 1e9) AS INTEGER), id, src_ip, dst_ip, proto, src_port, dst_port, seq, ack, flags, payload_len"
PGCOLS="round(ts * 1e9)::bigint, id, src_ip, dst_ip, proto, src_port, dst_port, seq, ack, flags, payload_len"
for t in A B C; do
    "$VND" query -d "$W/t.db" -f csv "select $COLS from $t order by rowid" | tail -n +2 | tr -d '"' >"$W/$t.sqlite"
    psql_ -F, -c "select $PGCOLS from vnd.\"$t\" order by vnd_rowid" >"$W/$t.pg"
    check "trace $t: every row and column equal ($(wc -l <"$W/$t.pg") rows)" cmp -s "$W/$t.sqlite" "$W/$t.pg"
done
M="packets_seen, packets_matched, packets_stored, sampled_out, status, linktype, sampling"
check_eq "vnd_meta: the same counters" \
    "$(psql_ -F, -c "select trace, $M from vnd.vnd_meta order by trace")" \
    "$("$VND" query -d "$W/t.db" -f csv "select trace, $M from vnd_meta order by trace" | tail -n +2)"

# rollups (ingest/rollup.h): the same rows, sketches byte for byte
RCOLS="slot, src_ip, src_port, dst_ip, dst_port, proto, kind, packets, bytes, flags, ts_min, ts_max, rtt_n, rtt_sum, rtt_min, rtt_max"
for t in A B C; do
    "$VND" query -d "$W/t.db" -f csv "select $RCOLS, hex(rtt_sketch), flow from ${t}__rollup order by slot, flow, kind, rowid" | tail -n +2 | tr -d '"' >"$W/$t.rsqlite"
    psql_ -F, -c "select $RCOLS, upper(encode(rtt_sketch, 'hex')), flow from vnd.\"${t}__rollup\" order by slot, flow, kind nulls first, vnd_rowid" >"$W/$t.rpg"
    check "rollup ${t}__rollup: the rows and sketches of SQLite's ($(wc -l <"$W/$t.rpg") rows)" \
        sh -c "[ -s '$W/$t.rpg' ] && cmp -s '$W/$t.rsqlite' '$W/$t.rpg'"
done
check "... rewritten across batches: rowids deleted (max rowid past the rows)" \
    [ "$(psql_ -c 'select max(vnd_rowid) > count(*) from vnd."A__rollup"')" = t ]
R="rollup, rollup_status, rollup_packets"
check_eq "vnd_meta: the rollup columns of SQLite's" \
    "$(psql_ -F, -c "select trace, $R from vnd.vnd_meta order by trace")" \
    "$("$VND" query -d "$W/t.db" -f csv "select trace, $R from vnd_meta order by trace" | tail -n +2)"

# --- an operator's read: vnd query -d pg:
check_eq "vnd query -d pg: reads the store (PostgreSQL's dialect)" \
    "$("$VND" query -d "pg:$CONN" -f csv 'select count(*), sum(payload_len) from "B"' | tail -1)" \
    "$("$VND" query -d "$W/t.db" -f csv 'select count(*), sum(payload_len) from B' | tail -1)"
out=$("$VND" query -d "pg:$CONN" 'delete from "B"' 2>&1); rc=$?
check "... in a read-only transaction (a DELETE fails, exit 1)" \
    bash -c '[ "$1" = 1 ] && grep -q "read-only transaction" <<<"$2"' _ "$rc" "$out"
check_eq "... and nothing was deleted" "$(psql_ -c 'select count(*) from vnd."B"')" "$(wc -l <"$W/B.pg")"
out=$("$VND" query -t 1 -d "pg:$CONN" 'select pg_sleep(5)' 2>&1); rc=$?
check "... under its time limit" bash -c '[ "$1" = 1 ] && grep -q "statement timeout" <<<"$2"' _ "$rc" "$out"

# --- again, replace, append
out=$("$VND" parse -q --pg "$CONN" A="$W/A.pcap" 2>&1)
check "a trace stored already: refused, says --replace" grep -q -- "--replace" <<<"$out"
n=$(psql_ -c 'select count(*) from vnd."A"')
"$VND" parse -q --replace --pg "$CONN" A="$W/A.pcap"
check_eq "--replace: the same rows once" "$(psql_ -c 'select count(*) from vnd."A"')" "$n"
check_eq "... and no rollup: the one kept before is dropped, vnd_meta names none" \
    "$(psql_ -c "select (select count(*) from information_schema.tables where table_schema = 'vnd' and table_name = 'A__rollup') || ',' || coalesce(rollup, 'none') from vnd.vnd_meta where trace = 'A'")" "0,none"
"$VND" parse -q --append --pg "$CONN" A="$W/A.pcap"
check_eq "--append: the rows twice" "$(psql_ -c 'select count(*) from vnd."A"')" "$((2 * n))"
check_eq "... and vnd_meta counts them" "$(psql_ -c "select packets_stored from vnd.vnd_meta where trace = 'A'")" "$((2 * n))"
check_eq "vnd_sampling: B's row from the start; A's again (--replace) and from its appended run" \
    "$(psql_ -F, -c "select trace, from_ts = 0, sampling, method, reason from vnd.vnd_sampling where trace in ('A', 'B') order by trace, from_ts")" \
    "$(printf 'A,t,1,count,configured\nA,f,1,count,configured\nB,t,1,count,configured')"
"$VND" parse -q --sampling 4 --sampling-method hash --pg "$CONN#hashed" H="$W/A.pcap"
check_eq "--sampling 4 --sampling-method hash: its row, the rows the same as SQLite's" \
    "$(psql_ -F, -c "select sampling, method, (select count(*) from hashed.\"H\") from hashed.vnd_sampling")" \
    "4,hash,$("$VND" parse -q --sampling 4 --sampling-method hash -o "$W/h.db" H="$W/A.pcap"; "$VND" query -d "$W/h.db" -f csv 'select count(*) from H' | tail -1)"

# --- two traces in one table: slots keep them apart
printf 'Trace ID all\nTable ID both\nFields: timestamp as ts, ip.src as src_ip, tcp.seq as seq\n' >"$W/both.conf"
"$VND" parse -q -c "$W/both.conf" --pg "$CONN#shared" X="$W/A.pcap" Y="$W/C.pcap"
nx=$(psql_ -c "select packets_stored from shared.vnd_meta where trace = 'X'")
ny=$(psql_ -c "select packets_stored from shared.vnd_meta where trace = 'Y'")
check_eq "a shared table holds both traces" "$(psql_ -c 'select count(*) from shared.both')" "$((nx + ny))"
"$VND" parse -q -c "$W/both.conf" --replace --pg "$CONN#shared" X="$W/B.pcap"
check_eq "replacing one keeps the other's rows" "$(psql_ -c 'select count(*) from shared.both')" \
    "$(( $(psql_ -c "select packets_stored from shared.vnd_meta where trace = 'X'") + ny ))"
check_eq "... in distinct rowid slots" "$(psql_ -c 'select count(distinct vnd_rowid >> 44) from shared.both')" 2

# --- errors say what and lose nothing
psql_ -c 'create table vnd.odd (vnd_rowid bigint, x text)'
printf 'Trace ID all\nTable ID odd\nFields: ip.src as y\n' >"$W/odd.conf"
out=$("$VND" parse -q -c "$W/odd.conf" --pg "$CONN" Z="$W/A.pcap" 2>&1)
check "a table with other columns: refused, names them" grep -q "odd exists with other columns" <<<"$out"
out=$("$VND" parse -q --pg "host=$W user=nobody dbname=postgres" Q="$W/A.pcap" 2>&1); rc=$?
check_eq "a bad connection: exit 1" "$rc" 1
check "... saying it cannot connect" grep -q "cannot connect" <<<"$out"
check_eq "... and the stored rows are all there" "$(psql_ -c 'select count(*) from vnd."A"')" "$((2 * n))"

# --- vnd-tabled with --trace-store
"$VND_BUILD/bench/gen_capture" "$W/in.pcap" 2000 4 >/dev/null
check "vnd-tabled --trace-store starts" tabled_start --trace-store "pg:$CONN"
api POST /v1/traces '{"id": "d7_0", "tag": 7, "tenant": "T-d7"}'
check_eq "a trace of tenant T-d7: 201" "$CODE" 201
sent=$(nsx "$VND_BUILD/bench/pktsend" -i va -t 7 "$W/in.pcap")
for _ in $(seq 50); do
    [ "$(psql_ -c "select packets_stored from \"T-d7\".vnd_meta where trace = 'd7_0'" 2>/dev/null)" = "$sent" ] && break
    sleep 0.1
done
check_eq "every frame sent is a row in schema T-d7 ($sent)" \
    "$(psql_ -c 'select count(*) from "T-d7"."d7_0"' 2>&1)" "$sent"
check_eq "... with vnd_rowid first (the coordinator's layout)" \
    "$(psql_ -c "select column_name from information_schema.columns where table_schema = 'T-d7' and table_name = 'd7_0' and ordinal_position = 1")" vnd_rowid
api POST /v1/query '{"sql": "select count(*) from d7_0", "tenant": "T-d7"}'
check_eq "a tenant query to it: 409" "$CODE" 409
check "... pointing at the control server" grep -q "through the control server" <<<"$BODY"
check_eq "... and a rollup beside it" "$(psql_ -c "select count(*) from \"T-d7\".\"d7_0__rollup\"" 2>&1 | grep -c '^[1-9]')" 1
api DELETE /v1/traces/d7_0
check_eq "deleting the trace: 200" "$CODE" 200
check_eq "... drops its table and its rollup" "$(psql_ -c "select count(*) from information_schema.tables where table_schema = 'T-d7' and table_name in ('d7_0', 'd7_0__rollup')")" 0
check_eq "... and its vnd_sampling rows" "$(psql_ -c "select count(*) from \"T-d7\".vnd_sampling where trace = 'd7_0'")" 0
done_testing
