#!/usr/bin/env bash
# parse_pg_restart.sh — `vnd parse --pg` through PostgreSQL going away
# (src/cli/cmd_parse.c waits; src/ingest/ingest.c keeps the batch open;
# src/store/store_pg.c holds it and sends it again whole).  The capture
# reaches vnd parse through a FIFO in parts, so that each event falls in
# the middle of the parse, never before or after it, however fast the
# machine:
#   1. PostgreSQL stopped for a while as packets arrive, as by a crash
#      (`pg_ctl stop -m immediate`): vnd parse says the store does not
#      answer and that it tries again, then that it answers; a
#      `pg_ctl restart -m fast` with a batch open heals in its commit;
#      exit 0, and every row is stored exactly once: the table
#      equals `vnd parse` into SQLite of the same capture, row for row
#      (rowids 1..n), and so do vnd_meta's counters;
#   2. stopped for longer than --pg-retry 2: exit 1, saying which packets
#      are stored (vnd_meta and the table agree) and which not, and to
#      parse again with --replace, which then stores the capture whole;
#   3. PostgreSQL down when vnd parse starts: it waits for it (up to
#      --pg-retry) and stores every row once; one that never answers ends
#      in exit 1 after --pg-retry.
#   5. a batch too large to hold whole (past VND_STORE_HOLD_BYTES, 1 MB
#      here, 256 MiB otherwise: a table's COPY data already sent is let
#      go) when the connection is lost: the batch is given up whole, none
#      of it stored, and vnd parse says so (exit 1);
#   4. a crash the moment vnd parse has said it stored the capture loses
#      none of it: each commit waits for the WAL (the server runs with a
#      10 s wal_writer_delay, so an asynchronous commit's last batch is
#      still in shared memory then: 65,536 of 100,000 rows survived).
# Starts a private PostgreSQL in a temporary directory on a Unix socket
# only; stops it and removes everything on exit, failure included.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-pg.sh"
pg_need "vnd parse through a PostgreSQL restart"
GEN=${VND_BUILD:-$(dirname "$VND")}/bench/gen_capture
[ -x "$GEN" ] || { skip "no $GEN (make builds it)"; done_testing; exit; }
W=$(mktemp -d /tmp/vnd-ppr.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
    exec 3>&- 2>/dev/null
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    pg_stop_all
    rm -rf "$W"
}
trap cleanup EXIT
# a hard limit: nothing here may hang the suite
( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep 120 >/dev/null & s=$!; wait $s
  echo; echo "not ok - parse_pg_restart timed out"; kill -TERM $$ ) 2>/dev/null &
PIDS+=($!)
PGDATA="$W/pg"
pg_start "vnd parse through a PostgreSQL restart" "$PGDATA" "$W" -c wal_writer_delay=10s
PGOPTS="$(pg_opts "$W") -c wal_writer_delay=10s"
CONN="host=$W user=vnd dbname=postgres"
psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W" -U vnd -d postgres -At "$@"; }
# (the server must not inherit the FIFO's writing end: vnd parse would
# never see its end)
pg_ctl_() { pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 30 -l "$PGDATA.log" -o "$PGOPTS" "$@" >/dev/null 2>&1 3>&-; }
# waits up to 20 s for CMD... to succeed
until_() { local _; for _ in $(seq 200); do "$@" && return 0; sleep 0.1; done; return 1; }
stored_is() { [ "$(psql_ -c "select packets_stored from vnd.vnd_meta where trace = '$1'" 2>/dev/null)" = "$2" ]; }
says() { grep -q -- "$2" "$1"; }

# the capture, in parts: 30000 packets (6 batches of 5000), 25000 (5:
# the commit that finds the store gone may run on the writer thread while
# the next batches are parsed), then 2500 and 2500 (one batch); the parts
# after the first without their file header, so that the FIFO carries one
# capture
"$GEN" "$W/p1.pcap" 30000 64 128 >/dev/null
"$GEN" "$W/p2.pcap" 25000 64 128 >/dev/null
"$GEN" "$W/p3.pcap" 2500 32 128 >/dev/null
for p in p2 p3; do tail -c +25 "$W/$p.pcap" >"$W/$p.rec"; done
cat "$W/p1.pcap" "$W/p2.rec" "$W/p3.rec" "$W/p3.rec" >"$W/all.pcap"
"$VND" parse -q -o "$W/t.db" A="$W/all.pcap"
total=$("$VND" query -d "$W/t.db" -f csv 'select count(*) from A' | tail -1)
mkfifo "$W/f1" "$W/f2"

# --- 1. stopped for a while, then a fast restart, in the middle of a parse
"$VND" parse --batch 5000 --pg "$CONN" A="$W/f1" >"$W/out1" 2>"$W/err1" &
PARSE=$!
PIDS+=($PARSE)
exec 3>"$W/f1"
cat "$W/p1.pcap" >&3
check "the first 30000 packets are stored" until_ stored_is A 30000
check "PostgreSQL stops as if it crashed (pg_ctl stop -m immediate)" pg_ctl_ -m immediate stop
cat "$W/p2.rec" >&3 &            # blocks while vnd parse waits: in the background
FEED=$!
PIDS+=($FEED)
check "vnd parse says the store does not answer and that it tries again" \
    until_ says "$W/err1" "the store does not answer (.*trying for up to 60 s (--pg-retry)"
sleep 1
check "... still waiting a second later (not gone)" kill -0 $PARSE
check "PostgreSQL starts again" pg_ctl_ start
check "... vnd parse says the store answers again" until_ says "$W/err1" "the store answers again after"
wait $FEED
cat "$W/p3.rec" >&3               # half a batch, open when PostgreSQL restarts
sleep 0.3
check "pg_ctl restart -m fast with a batch open" pg_ctl_ -m fast restart
cat "$W/p3.rec" >&3
exec 3>&-
wait $PARSE
rc=$?
check_eq "vnd parse ends well (exit 0): $(tr '\n' ' ' <"$W/err1" | cut -c1-300)" "$rc" 0
check "... and says how often the connection broke (twice or more) and that each batch went again whole" \
    grep -Eq "connection broke and was made again ([2-9]|[1-9][0-9]+) times; each batch it held was sent again whole" "$W/err1"
check_eq "rows: as many as SQLite's ($total)" "$(psql_ -c 'select count(*) from vnd."A"')" "$total"
check_eq "... each once: rowids 1..$total" \
    "$(psql_ -F ' ' -c 'select count(distinct vnd_rowid), min(vnd_rowid), max(vnd_rowid) from vnd."A"')" \
    "$total 1 $total"
COLS="CAST(round(ts * 1e9) AS INTEGER), id, src_ip, dst_ip, proto, src_port, dst_port, seq, ack, flags, payload_len"
PGCOLS="round(ts * 1e9)::bigint, id, src_ip, dst_ip, proto, src_port, dst_port, seq, ack, flags, payload_len"
"$VND" query -d "$W/t.db" -f csv "select $COLS from A order by rowid" | tail -n +2 | tr -d '"' >"$W/A.sqlite"
psql_ -F, -c "select $PGCOLS from vnd.\"A\" order by vnd_rowid" >"$W/A.pg"
check "... row for row, column for column, SQLite's" cmp -s "$W/A.sqlite" "$W/A.pg"
M="packets_seen, packets_matched, packets_stored, sampled_out, status"
check_eq "vnd_meta: SQLite's counters, status complete" \
    "$(psql_ -F, -c "select $M, coalesce(store_lost, 0) from vnd.vnd_meta where trace = 'A'")" \
    "$("$VND" query -d "$W/t.db" -f csv "select $M from vnd_meta where trace = 'A'" | tail -1 | tr -d '"'),0"

# --- 2. down for longer than --pg-retry: a clear failure, nothing half
"$VND" parse --batch 5000 --pg-retry 2 --pg "$CONN" B="$W/f2" >"$W/out2" 2>"$W/err2" &
PARSE=$!
PIDS+=($PARSE)
exec 3>"$W/f2"
cat "$W/p1.pcap" >&3
check "--pg-retry 2: the first 30000 packets are stored" until_ stored_is B 30000
pg_ctl_ -m fast stop
# the rest, and the capture's end: vnd parse's last commit at the latest
# finds the store gone (it may stop reading before: then cat gets EPIPE)
cat "$W/p2.rec" >&3 2>/dev/null &
PIDS+=($!)
exec 3>&-
t0=$(date +%s)
wait $PARSE
rc=$?
check_eq "... PostgreSQL stopped: vnd parse gives up (exit 1) after about 2 s ($(($(date +%s) - t0)) s)" "$rc" 1
check "... saying it has not answered for 2 s (--pg-retry)" \
    says "$W/err2" "f2: the store has not answered for 2 s (--pg-retry): PostgreSQL"
check "... what is stored: B's first 30000 packets, and from which packet on not" \
    says "$W/err2" "stored: B, its first 30000 packets (30000 rows); not stored: from packet 30001 on"
check "... and to parse it again with --replace" says "$W/err2" "again with --replace"
pg_ctl_ start
check_eq "vnd_meta agrees: 30000 stored, status ingesting" \
    "$(psql_ -F, -c "select packets_stored, status from vnd.vnd_meta where trace = 'B'")" "30000,ingesting"
check_eq "... and so does the table, with no half batch (rowids 1..30000)" \
    "$(psql_ -F ' ' -c 'select count(*), count(distinct vnd_rowid), max(vnd_rowid) from vnd."B"')" \
    "30000 30000 30000"
"$VND" parse -q --replace --pg "$CONN" B="$W/all.pcap"
check_eq "--replace then stores it whole: SQLite's $total rows" \
    "$(psql_ -F ' ' -c "select count(*), count(distinct vnd_rowid), (select status from vnd.vnd_meta where trace = 'B') from vnd.\"B\"")" \
    "$total $total complete"

# --- 3. PostgreSQL not answering yet when vnd parse starts: it waits
pg_ctl_ -m fast stop
"$VND" parse -q --pg "$CONN" C="$W/all.pcap" >"$W/out4" 2>"$W/err4" &
PARSE=$!
PIDS+=($PARSE)
sleep 1.5
pg_ctl_ start
wait $PARSE; rc=$?
check_eq "PostgreSQL down at the start: vnd parse waits for it and ends well (exit 0)" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   vnd parse: /' "$W/err4"
check "... saying it is waiting, and when the store answered" \
    sh -c "grep -q 'the store does not answer (PostgreSQL: cannot connect' '$W/err4' && grep -q 'the store answers after' '$W/err4'"
check_eq "... every row stored once" \
    "$(psql_ -F ' ' -c 'select count(*), count(distinct vnd_rowid) from vnd."C"')" "$total $total"
pg_ctl_ -m fast stop
"$VND" parse -q --pg-retry 1 --pg "$CONN" D="$W/all.pcap" >"$W/out5" 2>"$W/err5"
check_eq "... and gives up after --pg-retry when it never answers (exit 1)" "$?" 1
pg_ctl_ start

# --- 4. a crash right after the parse: what it said is stored is stored
"$VND" parse -q --pg "$CONN" E="$W/all.pcap"
check "vnd parse stores E, then PostgreSQL crashes at once (pg_ctl stop -m immediate)" \
    pg_ctl_ -m immediate stop
pg_ctl_ start
check_eq "... and after recovery every row of E is there, and vnd_meta says so" \
    "$(psql_ -F ' ' -c "select count(*), (select packets_stored from vnd.vnd_meta where trace = 'E') from vnd.\"E\"")" \
    "$total $total"

# --- 5. a batch too large to hold, the connection lost in its middle
# (not under TSan: its parse is slower than a batch's second, so the batch
# closes by time before its rows reach the 8 MiB at which COPY data goes)
case $VND in *tsan*) skip "a batch too large to hold (TSan: batches close by time first)"; done_testing; exit 0 ;; esac
"$GEN" "$W/p4.pcap" 60000 64 128 >/dev/null
tail -c +25 "$W/p4.pcap" >"$W/p4.rec"
mkfifo "$W/f3"
VND_STORE_HOLD_BYTES=1000000 "$VND" parse --batch 100000 --pg-retry 20 --pg "$CONN" \
    G="$W/f3" >"$W/out6" 2>"$W/err6" &
PARSE=$!
PIDS+=($PARSE)
exec 3>"$W/f3"
cat "$W/p1.pcap" "$W/p4.rec" >&3
# a table's COPY data goes at 8 MiB (about 57,000 of these rows), in the
# batch's transaction, which stays open for the rest of the batch
copied() { [ "$(psql_ -c "select count(*) from pg_stat_activity where state = 'idle in transaction' and query like 'COPY%'")" = 1 ]; }
check "90000 packets into a batch of 100000: part of its rows went by COPY, in its transaction" \
    until_ copied
check "PostgreSQL stops as if it crashed" pg_ctl_ -m immediate stop
pg_ctl_ start
cat "$W/p3.rec" >&3
exec 3>&-
wait $PARSE
check_eq "the batch could not be sent again whole: vnd parse ends in exit 1" "$?" 1
sed 's/^/#   /' "$W/err6"
check "... saying the batch was too large to hold and is not stored, nor any of G" \
    sh -c "grep -q 'a batch too large to hold; the batch is not stored' '$W/err6' && grep -q '^vnd parse: not stored: G$' '$W/err6'"
check "... and nothing else: the server's notices are not printed" \
    sh -c "! grep -q WARNING '$W/err6'"
check_eq "... and none of it is: no half batch" \
    "$(psql_ -c "select count(*) from vnd.\"G\"" 2>/dev/null || echo 0)" 0
done_testing
