#!/usr/bin/env bash
# pg_restart.sh — a table server whose PostgreSQL restarts keeps storing
# (src/store/store_pg.c holds the open batch; src/ingest/ingest.c keeps it
# open while the store does not answer, or gives it up and counts it):
#   1. frames stored before anything happens;
#   2. `pg_ctl restart -m fast` while frames arrive: the batch in flight is
#      sent again, the frames after the restart arrive;
#   3. PostgreSQL stopped for a while (VND_STORE_HOLD=4000 packets): GET
#      /v1/traces, the log and /metrics say the store is down and since
#      when; batches past the limit are given up and counted in
#      vnd_meta.store_lost; once it is back, frames are stored again;
#   4. stopped while PostgreSQL is down: exit 1, the log counts the frames
#      it held.
# At the end: stored + store_lost = frames sent, every stored row exactly
# once (rowids 1..n, no gap or repeat: no half batch, nothing twice), and
# the rows of step 1 all there.
# Starts a private PostgreSQL in a temporary directory on a Unix socket
# only; stops and removes it on exit, failure included.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
source "$(dirname "$0")/lib-pg.sh"
pg_need "PostgreSQL restart"
tabled_setup pgrestart 7437 300          # sets W, NS, the cleanup trap
PGDATA="$W/pg"
chmod 755 "$W"
trap 'kill $WATCHDOG 2>/dev/null; pg_stop_all; tabled_cleanup' EXIT
PGOPTS=$(pg_opts "$W")
pg_start "PostgreSQL restart" "$PGDATA" "$W"
CONN="host=$W user=vnd dbname=postgres"
psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W" -U vnd -d postgres -At "$@"; }
meta() { psql_ -c "select $1 from \"T\".vnd_meta where trace = 'r1'" 2>/dev/null; }
# waits until stored + store_lost reaches $1 (or 30 s)
settle() {
    for _ in $(seq 300); do
        [ "$(meta 'packets_stored + coalesce(store_lost, 0)')" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
send() { nsx "$VND_BUILD/bench/pktsend" -i va -t 7 "$@"; }

"$VND_BUILD/bench/gen_capture" "$W/a.pcap" 2000 4 >/dev/null
"$VND_BUILD/bench/gen_capture" "$W/b.pcap" 6000 4 >/dev/null
head -c 24 /dev/urandom | base64 >"$W/msecret"
MSECRET=$(cat "$W/msecret")
export VND_STORE_HOLD=4000
check "vnd-tabled --trace-store pg: starts" tabled_start --trace-store "pg:$CONN" \
    --metrics-secret-file "$W/msecret"
api POST /v1/traces '{"id": "r1", "tag": 7, "tenant": "T"}'
check_eq "a trace: 201" "$CODE" 201

# --- 1. before
sent=$(send "$W/a.pcap")
check "step 1: $sent frames stored" settle "$sent"
total=$sent
t1=$(psql_ -c 'select max(ts) from "T".r1')
n1=$(psql_ -c 'select count(*) from "T".r1')

# --- 2. a fast restart while frames arrive (1000 a second for 6 s)
send -p 1000 "$W/b.pcap" >"$W/sent2" &
SENDER=$!
sleep 1
restart_pg() { pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 30 -m fast -l "$W/pg.log" -o "$PGOPTS" restart >/dev/null; }
check "step 2: pg_ctl restart -m fast mid-traffic" restart_pg
wait $SENDER
total=$((total + $(cat "$W/sent2")))
check "... then every frame is stored or counted as lost ($total)" settle "$total"
sent=$(send "$W/a.pcap")
total=$((total + sent))
check "... and frames after the restart are stored" settle "$total"
check_eq "... none lost: the batch in flight was sent again" "$(meta 'coalesce(store_lost, 0)')" 0
# a restart between two commits heals within one (the batch is sent again
# on the new connection): then the log says when it broke, in one line
{ grep -q "the store does not answer since" "$W/log" || grep -q "connection broke at" "$W/log"; } \
    && grep -q "the store answers again" "$W/log"
check "... the log says when it went and came back" [ $? = 0 ]

# --- 3. stopped for a while: more frames than a batch may hold
pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 30 -m fast stop >/dev/null 2>&1
sent=$(send "$W/b.pcap")
total=$((total + sent))
sleep 1
api GET /v1/traces
check_eq "step 3: GET /v1/traces says the store is down" \
    "$(jq -r '.traces[0].store' <<<"$BODY")" down
since=$(jq -r '.traces[0].store_down_since' <<<"$BODY")
check "... since when (UTC, $since)" bash -c '[ "$(date -ud "$1" +%s)" -le "$(date +%s)" ] && [ "$(date -ud "$1" +%s)" -ge "$(($(date +%s) - 60))" ]' _ "$since"
check "... and why" bash -c 'jq -e ".traces[0].store_error | length > 0" <<<"$1" >/dev/null' _ "$BODY"
m=$(nsx curl -s -H "Authorization: Bearer $MSECRET" "$URL/metrics")
check "... /metrics: vnd_tabled_store_down_since is that time" \
    bash -c 'v=$(grep "^vnd_tabled_store_down_since " <<<"$1" | awk "{print int(\$2)}"); [ "$v" = "$(date -ud "$2" +%s)" ]' _ "$m" "$since"
check "... and vnd_tabled_packets_store_lost_total counts the batches given up" \
    bash -c 'grep -Eq "^vnd_tabled_packets_store_lost_total\{trace=\"r1\"\} [1-9]" <<<"$1"' _ "$m"
check "... the log says the store does not answer since then" grep -q "does not answer since ${since}" "$W/log"
check "... and that a batch was given up" grep -q "packets is not stored (counted as store_lost)" "$W/log"
pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 30 -l "$W/pg.log" -o "$PGOPTS" start >/dev/null 2>&1
sent=$(send "$W/a.pcap")
total=$((total + sent))
check "once it is back, stored + store_lost = every frame sent ($total)" settle "$total"
api GET /v1/traces
check_eq "... GET /v1/traces: the store is up" "$(jq -r '.traces[0].store' <<<"$BODY")" up
lost=$(meta store_lost)
check "... some frames were lost while it was down, and counted ($lost)" [ "$lost" -gt 0 ]
check "... at most what was sent while it was down ($lost <= 6000)" [ "$lost" -le 6000 ]
check_eq "... the API's store_lost agrees" "$(jq -r '.traces[0].store_lost' <<<"$BODY")" "$lost"
check_eq "... seen = every frame sent" "$(meta packets_seen)" "$total"

# --- the rows: each once, none half
stored=$(meta packets_stored)
check_eq "rows in the table = packets_stored ($stored)" "$(psql_ -c 'select count(*) from "T".r1')" "$stored"
check_eq "... rowids 1..n: no batch twice, no gap" \
    "$(psql_ -F ' ' -c 'select count(distinct vnd_rowid), min(vnd_rowid), max(vnd_rowid) from "T".r1')" "$stored 1 $stored"
check_eq "... the rows of step 1 are all there" "$(psql_ -c "select count(*) from \"T\".r1 where ts <= $t1")" "$n1"
check "... and rows stored after the last restart" [ "$(psql_ -c "select count(*) from \"T\".r1 where ts > $t1")" -gt 0 ]
kill -TERM "$PID"; wait "$JOB"
check_eq "vnd-tabled stops cleanly (exit 0: no store failure)" "$?" 0

# --- 4. stopped while its store is down: what it held is said, not lost silently
check "vnd-tabled starts again (the trace restored)" tabled_start --trace-store "pg:$CONN"
pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 30 -m fast stop >/dev/null 2>&1
sent=$(send "$W/a.pcap")
sleep 1
kill -TERM "$PID"; wait "$JOB"
check_eq "step 4: stopped with its store down: exit 1" "$?" 1
check "... the log counts the $sent packets held and not stored" \
    grep -q "does not answer.*: $sent packets held for it are not stored" "$W/log"
done_testing
