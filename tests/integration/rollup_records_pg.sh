#!/usr/bin/env bash
# rollup_records_pg.sh — a flow-record table's rollup (docs/rollups.md,
# "Flow records") on a table server writing to PostgreSQL: bench/flowsend
# sends 1,000 messages of 16 records over 2 s to vnd-tabled
# --trace-store pg; the rollup must be there, named in vnd_meta, one row
# per second (a second touched by several batches rewritten, not added
# to), every record counted once as a first, and its seconds' packets
# and bytes the records' own.  A private PostgreSQL on a Unix socket,
# stopped and removed on exit, failure included.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
source "$(dirname "$0")/lib-pg.sh"
SEND=${VND_BUILD:-build}/bench/flowsend
[ -e "$SEND" ] || { not_ok "$SEND is not built (make)"; done_testing; exit 1; }
pg_need "a records rollup on PostgreSQL"
tabled_setup rollrecpg 47461 120
chmod 755 "$W"
trap 'kill $WATCHDOG 2>/dev/null; pg_stop_all; tabled_cleanup' EXIT
pg_start "a records rollup on PostgreSQL" "$W/pg" "$W"
CONN="host=$W user=vnd dbname=postgres"
psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W" -U vnd -d postgres -At "$@"; }
check "vnd-tabled --trace-store pg --ipfix-listen: starts" \
    tabled_start --trace-store "pg:$CONN" --ipfix-listen 127.0.0.1:47462
api POST /v1/traces '{"id":"flows","tag":1,"mode":"ipfix","tenant":"T"}'
check_eq "an ipfix trace: 201" "$CODE" 201
nsx "$SEND" -k ipfix -d 127.0.0.1:47462 -n 1000 -p 500 -i 1 -s 13 >/dev/null
check "flowsend sent 1,000 messages of 16 records" test $? -eq 0
meta() { psql_ -c "select $1 from \"T\".vnd_meta where trace = 'flows'" 2>/dev/null; }
for _ in $(seq 100); do
    [ "$(meta rollup_packets)" = 16000 ] && break
    sleep 0.1
done
check_eq "vnd_meta: the rollup, its status and the records it holds" \
    "$(meta "rollup || ' ' || rollup_status || ' ' || rollup_packets || ' ' || packets_stored")" \
    "flows__rollup rollup-records 16000 16000"
R='"T".flows__rollup'
check_eq "one row per second: rewritten, not added to" \
    "$(psql_ -c "select count(*) = count(distinct slot) from $R")" t
check_eq "every record a first once" "$(psql_ -c "select sum(firsts) from $R")" 16000
check_eq "the seconds hold the records' packets" \
    "$(psql_ -c "select round(sum(packets)) = (select sum(packets) from \"T\".flows) from $R")" t
check_eq "... and their bytes" \
    "$(psql_ -c "select abs(sum(bytes) - (select sum(bytes) from \"T\".flows)) < 1e-6 * sum(bytes) from $R")" t
check "... over several seconds ($(psql_ -c "select count(*) from $R") rows)" \
    test "$(psql_ -c "select count(*) from $R")" -ge 3
done_testing
