#!/usr/bin/env bash
# diag_postgres.sh — the diagnostic applications' SQL is portable: each
# app's PostgreSQL form (`vnd diag ... --show-sql --pg`) runs on a real
# PostgreSQL holding the same trace tables and gives the rows `vnd diag`
# gives on SQLite (numbers equal to 1e-6 relative).  Then a larger case,
# tables of about 100,000 rows and no index (as a table server leaves
# them): the apps that join two tables must finish within a generous bound,
# give the same rows, and their plans must hash (loss: a Hash Anti Join)
# rather than run a subquery per row (no SubPlan).  Starts a private
# PostgreSQL in a temporary directory on a Unix socket only; stops and
# removes it on exit, failure included.
source "$(dirname "$0")/../lib.sh"
# The SQL under test runs inside PostgreSQL; VND's side of it (the apps'
# PostgreSQL SQL, vnd query) runs under the sanitizers in diag_cli.sh,
# store_pg.sh and distributed_pg.sh.
case ${VND:-} in
*build-san/*|*build-tsan/*)
    skip "PostgreSQL portability: the SQL runs in PostgreSQL; run on the optimized build only"
    done_testing; exit 0 ;;
esac
source "$(dirname "$0")/lib-pg.sh"
pg_need "PostgreSQL portability"
W=$(mktemp -d /tmp/vnd-pg.XXXXXX)
chmod 755 "$W"; chown postgres "$W"   # socket and log live here
PGDATA="$W/pg"
trap 'pg_stop_all; rm -rf "$W"' EXIT
pg_start "PostgreSQL portability" "$PGDATA" "$W"
psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W" -U vnd -d postgres "$@"; }

# The demo's chain, short: A, B, C with loss at the IDS.
"$VND" demo --generate-only --duration 1.5 --join 0.5 --dir "$W" >/dev/null 2>&1
"$VND" parse -q -o "$W/t.db" A="$W/A.pcap" B="$W/B.pcap" C="$W/C.pcap"
for t in A B C; do
    "$VND" query -d "$W/t.db" -f csv "select * from $t" > "$W/$t.csv"
    psql_ -c "CREATE TABLE \"$t\" (ts double precision, id bigint, src_ip text, dst_ip text,
              proto integer, src_port integer, dst_port integer, seq bigint, ack bigint,
              flags integer, payload_len integer)" \
          -c "\\copy \"$t\" FROM '$W/$t.csv' WITH (FORMAT csv, HEADER true)" \
          -c "CREATE INDEX ON \"$t\" (id)" -c "ANALYZE \"$t\""   # speed only, not results
done
# The same with SACK blocks, parsed with a sack column (tables SA, SB, SC).
mkdir "$W/s"
"$VND" demo --generate-only --duration 1.5 --join 0.5 --re-loss 0.01 --sack --dir "$W/s" >/dev/null 2>&1
printf 'Trace ID all\nFields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip,\n  ip.proto as proto, tcp.src as src_port, tcp.dst as dst_port, tcp.seq as seq,\n  tcp.ack as ack, tcp.flags as flags, payload.len as payload_len, tcp.sack as sack\n' >"$W/sack.conf"
"$VND" parse -q -c "$W/sack.conf" -o "$W/t.db" SA="$W/s/A.pcap" SB="$W/s/B.pcap" SC="$W/s/C.pcap"
for t in SA SB SC; do
    "$VND" query -d "$W/t.db" -f csv "select * from $t" > "$W/$t.csv"
    psql_ -c "CREATE TABLE \"$t\" (ts double precision, id bigint, src_ip text, dst_ip text,
              proto integer, src_port integer, dst_port integer, seq bigint, ack bigint,
              flags integer, payload_len integer, sack text)" \
          -c "\\copy \"$t\" FROM '$W/$t.csv' WITH (FORMAT csv, HEADER true)" -c "ANALYZE \"$t\""
done
check_eq "PostgreSQL holds the same rows" "$(psql_ -At -c 'select count(*) from "B"')" \
    "$("$VND" query -d "$W/t.db" -f csv 'select count(*) from B' | tail -1)"

# same_rows FILE1 FILE2: CSV equal, numbers to 1e-6 relative.
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

# app NAME ARGS...: SQLite result vs PostgreSQL result of the --pg SQL
# (the SQLite database is $DB).
DB=$W/t.db
app() {
    local name=$1; shift
    # the rows on both (a rollup's p50/p99 are a sketch's: docs/rollups.md)
    "$VND" diag "$@" -d "$DB" -f csv --no-rollup > "$W/lite.csv" 2>"$W/err" || { not_ok "$name: vnd diag failed: $(cat "$W/err")"; return; }
    sed -i '/^# verdict: /d; /^# sampling: /d' "$W/lite.csv"   # bottleneck's verdict, a sampled table's note: not rows
    "$VND" diag "$@" -d "$DB" --show-sql --pg > "$W/q.sql"
    if ! psql_ --csv -f "$W/q.sql" > "$W/pg.csv" 2>"$W/err"; then
        not_ok "$name: PostgreSQL refused the SQL: $(head -3 "$W/err")"; return
    fi
    local why
    if why=$(same_rows "$W/lite.csv" "$W/pg.csv"); then
        ok "$name: $(($(wc -l < "$W/lite.csv") - 1)) rows, same on PostgreSQL"
    else
        not_ok "$name: PostgreSQL differs: $why"
    fi
}
app distribution distribution -t A --field dst_port
app groups       groups -t B --fields src_ip,dst_ip,dst_port
app filter       filter -t C --where 'tcp.dst = 80 and payload.len > 0'
app "filter CIDR" filter -t C --where 'ip.src = 10.0.0.0/24'
app throughput   throughput -t A --slot 0.5
app "throughput by flow" throughput -t A --by-flow --where 'ip.src = 10.0.0.10'
app rtt          rtt -t B
app "rtt by flow" rtt -t C --by-flow
app "rtt handshake" rtt -t C --by-flow --kind handshake
app "rtt data"   rtt -t B --kind data
app delay        delay --in B --out C
app loss         loss --in B --out C
app "loss list"  loss --in B --out C --list
app correlate    correlate --in A --out B --by id
app bottleneck   bottleneck --path A,B,C
app "rtt sack"   rtt -t SB
app "rtt sack by flow" rtt -t SA --by-flow --slot 0.25
app "bottleneck sack" bottleneck --path SA,SB,SC

# Flow records (Mode ipfix), sampled 1-in-100 by the switch: throughput
# spreads them over their durations in a recursive query on both; groups
# and distribution weigh them by their packets.
sqlite3 "$DB" "CREATE TABLE FR (ts REAL, src_ip TEXT, dst_ip TEXT, proto INTEGER,
    src_port INTEGER, dst_port INTEGER, start_ts REAL, end_ts REAL, packets INTEGER,
    bytes INTEGER);
  INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling)
    VALUES ('fr', 'FR', 'vnd-tabled ipfix', 100, 1);
  WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 299)
  INSERT INTO FR SELECT 1000 + i * 0.031, '10.0.0.' || (i % 5), '10.0.1.1', 6, 1000 + i % 7,
    80, 1000 + i * 0.031 - (i % 11) * 0.37, 1000 + i * 0.031, 100 * (1 + i % 13),
    150000 * (1 + i % 13) - i FROM k"
"$VND" query -d "$DB" -f csv "select * from FR" > "$W/FR.csv"
psql_ -c "CREATE TABLE \"FR\" (ts double precision, src_ip text, dst_ip text, proto integer,
          src_port integer, dst_port integer, start_ts double precision,
          end_ts double precision, packets bigint, bytes bigint)" \
      -c "\\copy \"FR\" FROM '$W/FR.csv' WITH (FORMAT csv, HEADER true)"
app "throughput of flow records" throughput -t FR --slot 0.5
app "throughput of flow records by flow" throughput -t FR --by-flow --where 'ip.src = 10.0.0.3'
app "groups of flow records" groups -t FR --fields src_ip,src_port
app "distribution of flow records" distribution -t FR --field src_ip
# with the records' sums of squared lengths (OVS's octetDeltaSumOfSquares):
# missing, below the equal-size least, above it
sqlite3 "$DB" "CREATE TABLE FQ AS SELECT *, CASE rowid % 3 WHEN 0 THEN NULL WHEN 1 THEN 1
    ELSE 2 * bytes * bytes / packets END AS bytes_sq FROM FR;
  INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling)
    VALUES ('fq', 'FQ', 'vnd-tabled ipfix', 100, 1)"
"$VND" query -d "$DB" -f csv "select * from FQ" > "$W/FQ.csv"
psql_ -c "CREATE TABLE \"FQ\" (ts double precision, src_ip text, dst_ip text, proto integer,
          src_port integer, dst_port integer, start_ts double precision,
          end_ts double precision, packets bigint, bytes bigint, bytes_sq bigint)" \
      -c "\\copy \"FQ\" FROM '$W/FQ.csv' WITH (FORMAT csv, HEADER true)"
app "throughput of flow records with bytes_sq" throughput -t FQ --slot 0.5
app "throughput of flow records with bytes_sq by flow" throughput -t FQ --by-flow
app "groups of flow records with bytes_sq" groups -t FQ --fields src_ip
app "distribution of flow records with bytes_sq" distribution -t FQ --field src_port

# A sampled packet table (1-in-2, then 1-in-4 packets of 1-in-2 flows):
# throughput and groups scale each row by its interval's rates, with
# their intervals, on both
sqlite3 "$DB" "CREATE TABLE BS AS SELECT * FROM B WHERE id % 3 = 0;
  INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling)
    VALUES ('bs', 'BS', 'vnd-tabled', 4, 2);
  CREATE TABLE IF NOT EXISTS vnd_sampling(trace TEXT NOT NULL, tbl TEXT NOT NULL,
    from_ts REAL NOT NULL, sampling INTEGER NOT NULL, method TEXT NOT NULL,
    flow_sampling REAL NOT NULL, reason TEXT, PRIMARY KEY (trace, tbl, from_ts));
  INSERT INTO vnd_sampling VALUES ('bs', 'BS', 0, 2, 'count', 1, 'configured');
  INSERT INTO vnd_sampling SELECT 'bs', 'BS', (min(ts) + max(ts)) / 2, 4, 'count', 2,
    'budget' FROM BS"
"$VND" query -d "$DB" -f csv "select * from BS" > "$W/BS.csv"
psql_ -c "CREATE TABLE \"BS\" (ts double precision, id bigint, src_ip text, dst_ip text,
          proto integer, src_port integer, dst_port integer, seq bigint, ack bigint,
          flags integer, payload_len integer)" \
      -c "\\copy \"BS\" FROM '$W/BS.csv' WITH (FORMAT csv, HEADER true)"
app "throughput of a sampled table" throughput -t BS --slot 0.5
app "groups of a sampled table" groups -t BS --fields src_ip,dst_port
app "distribution of a sampled table" distribution -t BS --field dst_port

# ---- the larger case: ~100,000 rows per table, no index ----
# load_big DB TABLE...: copies SQLite tables into PostgreSQL, no index.
load_big() {
    local db=$1 t; shift
    for t in "$@"; do
        "$VND" query -d "$db" -f csv "select * from $t" > "$W/$t.csv"
        psql_ -c "CREATE TABLE \"$t\" (ts double precision, id bigint, src_ip text, dst_ip text,
                  proto integer, src_port integer, dst_port integer, seq bigint, ack bigint,
                  flags integer, payload_len integer)" \
              -c "\\copy \"$t\" FROM '$W/$t.csv' WITH (FORMAT csv, HEADER true)" -c "ANALYZE \"$t\""
    done
}
mkdir "$W/big"
"$VND" demo --generate-only --duration 8 --join 2 --seed 9 --ids-pps 12000 --dir "$W/big" >/dev/null 2>&1
"$VND" demo lb --generate-only --conns 4000 --rate 1000 --clients 10 --port-range 200 --seed 9 \
    --dir "$W/big" >/dev/null 2>&1
"$VND" parse -q -o "$W/big.db" B2="$W/big/B.pcap" C2="$W/big/C.pcap" FE="$W/big/FE.pcap" BE="$W/big/BE.pcap"
load_big "$W/big.db" B2 C2 FE BE
rows=$(psql_ -At -c 'select count(*) from "B2"')
if [ "$rows" -ge 50000 ]; then ok "larger case: $rows rows in B2, no index"
else not_ok "larger case: only $rows rows in B2"; fi

# loops PLAN: the plan's Nested Loops none of whose inputs is the one-row
# origin (a CTE Scan on vnd_origin): a loop over two big inputs, one
# scanned again per row of the other.  Children of a node at "->" column c
# have theirs at c + 6 (the root's at 4).
loops() {
    awk '{ l[NR] = $0; c[NR] = index($0, "->") }
        END { for (i = 1; i <= NR; i++) {
                  if (l[i] !~ /Nested Loop/) continue
                  col = c[i] ? c[i] : -2; one = 0
                  for (j = i + 1; j <= NR && !(c[j] && c[j] <= col); j++)
                      if (c[j] == col + 6 && l[j] ~ /CTE Scan on vnd_origin/) one = 1
                  if (!one) { gsub(/ +/, " ", l[i]); print l[i] }
              } }' "$1"
}

# big NAME PLAN-PATTERN ARGS...: same rows on SQLite and PostgreSQL, both
# within LIMIT seconds; the plan has PLAN-PATTERN (- for none), no SubPlan
# and, once NOLOOP=1, no Nested Loop but over the one-row origin (the
# apps before it loop over small per-flow tables).
LIMIT=120
NOLOOP=0
big() {
    local name=$1 want=$2; shift 2
    "$VND" diag "$@" -d "$DB" --show-sql --pg > "$W/q.sql"
    { echo "EXPLAIN"; cat "$W/q.sql"; } | psql_ > "$W/plan.txt" 2>&1
    local nl=
    [ "$NOLOOP" = 1 ] && nl=$(loops "$W/plan.txt")
    if [ -n "$nl" ]; then
        not_ok "$name: the plan loops over a big input: $(echo "$nl" | head -2 | tr '\n' ' ')"
    elif grep -q SubPlan "$W/plan.txt"; then
        not_ok "$name: the plan runs a subquery per row: $(grep -m1 -B2 SubPlan "$W/plan.txt" | tr -s ' ' | tr '\n' ' ')"
    elif [ "$want" != - ] && ! grep -q "$want" "$W/plan.txt"; then
        not_ok "$name: no $want in the plan: $(grep -E 'Join|Loop' "$W/plan.txt" | tr -s ' ' | head -5 | tr '\n' ' ')"
    else
        local also=
        [ "$NOLOOP" = 1 ] && also=", no loop over a big input"
        if [ "$want" = - ]; then ok "$name: no SubPlan$also in the plan"
        else ok "$name: the plan has a $want join, no SubPlan$also"; fi
    fi
    local t0=$SECONDS
    export PGOPTIONS="-c statement_timeout=${LIMIT}s"
    app "$name" "$@"
    unset PGOPTIONS
    local dt=$((SECONDS - t0))
    if [ "$dt" -le "$LIMIT" ]; then ok "$name: done in ${dt}s (bound ${LIMIT}s)"
    else not_ok "$name: took ${dt}s, more than ${LIMIT}s"; fi
}
DB=$W/big.db
big "big loss"       "Hash Anti Join" loss --in B2 --out C2
big "big loss list"  "Hash Anti Join" loss --in B2 --out C2 --list
big "big delay"      "Hash" delay --in B2 --out C2
big "big correlate"  "Hash" correlate --in B2 --out C2 --by id
big "big correlate by order" - correlate --in FE --out BE --by order
# rtt pairs segments and ACKs by window passes over one union, no join
# (the origin's one row aside); bottleneck embeds rtt's and loss's SQL.
NOLOOP=1
big "big rtt"        - rtt -t B2
big "big rtt by flow" - rtt -t C2 --by-flow --slot 0.5
big "big bottleneck" - bottleneck --path B2,C2
# with a sack column: segments find the SACK blocks that hold them by a
# hashed equality (direction, 2^20 bucket of sequence space)
mkdir "$W/bigs"
"$VND" demo --generate-only --duration 8 --join 2 --seed 9 --ids-pps 12000 --re-loss 0.01 --sack \
    --dir "$W/bigs" >/dev/null 2>&1
"$VND" parse -q -c "$W/sack.conf" -o "$W/bigs.db" SB2="$W/bigs/B.pcap"
"$VND" query -d "$W/bigs.db" -f csv "select * from SB2" > "$W/SB2.csv"
psql_ -c "CREATE TABLE \"SB2\" (ts double precision, id bigint, src_ip text, dst_ip text,
          proto integer, src_port integer, dst_port integer, seq bigint, ack bigint,
          flags integer, payload_len integer, sack text)" \
      -c "\\copy \"SB2\" FROM '$W/SB2.csv' WITH (FORMAT csv, HEADER true)" -c "ANALYZE \"SB2\""
nsack=$(psql_ -At -c 'select count(sack) from "SB2"')
check "larger case with SACK: $nsack rows with SACK blocks in SB2" [ "$nsack" -gt 1000 ]
DB=$W/bigs.db
big "big rtt sack"   "Hash Join" rtt -t SB2
done_testing
