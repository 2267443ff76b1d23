#!/usr/bin/env bash
# pg_pushdown.sh [ROWS] [BUILD] — what crosses the network in the
# distributed mode (docs/distributed.md): two table servers' PostgreSQL
# with ROWS rows (default 1,000,000) in one trace table each ("B" on ts1,
# "C" on ts2, the table servers' layout), a coordinator made by
# vnd-pg-setup and the coordinator module (tests/tools/coord.c), the table
# servers reached over loopback TCP through a relay that counts the bytes
# they send.  For each query: its rows, its time (best of RUNS, default 3)
# and the bytes the table servers sent, beside the same aggregate with
# pushdown defeated (OFFSET 0 keeps the planner from moving the GROUP BY
# into the remote SQL, so every row comes over); then one table "D" held
# on both hosts (ROWS rows on each), aggregated through the tenant's view
# and per host ("D@1", "D@2") with the results combined on the
# coordinator, as the apps do.  Then a full scan with
# postgres_fdw's default fetch_size (100) against the coordinator's 10000.
# Root (PostgreSQL runs as postgres); skips without PostgreSQL.
set -u
cd "$(dirname "$0")/.."
N=${1:-1000000}
B=${2:-build}
RUNS=${RUNS:-3}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ] || [ "$(id -u)" != 0 ] || ! id postgres >/dev/null 2>&1; then
    echo "pg_pushdown: needs PostgreSQL and root"; exit 0
fi
W=$(mktemp -d /tmp/vnd-pgbench.XXXXXX)
chmod 755 "$W"; chown postgres "$W"
pg() { runuser -u postgres -- "$@"; }
RELAYS=()
cleanup() {
    for p in "${RELAYS[@]}"; do kill "$p" 2>/dev/null; done
    for i in c ts1 ts2; do
        [ -f "$W/$i/postmaster.pid" ] && pg "$PGBIN/pg_ctl" -D "$W/$i" -m immediate stop >/dev/null 2>&1
    done
    rm -rf "$W"
}
trap cleanup EXIT
BASE=$((30000 + RANDOM % 20000))
port() { case $1 in ts1) echo $((BASE + 1));; ts2) echo $((BASE + 2));; esac; }
for i in c ts1 ts2; do
    mkdir "$W/$i" "$W/s$i" && chown postgres "$W/$i" "$W/s$i"
    listen="''"
    [ "$i" != c ] && listen="'127.0.0.1' -p $(port "$i")"
    pg "$PGBIN/initdb" -D "$W/$i" -A trust -U vnd --no-sync >/dev/null 2>&1 &&
    printf 'local all vnd trust\nlocal all all scram-sha-256\n' > "$W/$i/pg_hba.conf" &&
    pg "$PGBIN/pg_ctl" -D "$W/$i" -w -t 30 -l "$W/$i.log" \
        -o "-k $W/s$i -c listen_addresses=$listen -c fsync=off -c full_page_writes=off" start >/dev/null ||
        { echo "pg_pushdown: PostgreSQL did not start: $(tail -1 "$W/$i.log")"; exit 1; }
done
umask 077
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$W/coord.pw"
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$W/fdw.pw"
umask 022
PGUSER=vnd PGHOST=$W/sc scripts/vnd-pg-setup coordinator --password-file "$W/coord.pw" \
    --from local --hba "$W/c/pg_hba.conf" >/dev/null
for i in ts1 ts2; do
    PGUSER=vnd PGHOST=$W/s$i PGPORT=$(port "$i") scripts/vnd-pg-setup table-server --password-file "$W/fdw.pw" \
        --from 127.0.0.1/32 --hba "$W/$i/pg_hba.conf" >/dev/null
done

# rows in the table servers' layout, made where they live
fill() {    # INSTANCE TABLE [SCHEMA]
    local sc=${3:-alice-d1}
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W/s$1" -p "$(port "$1")" -U vnd -d vnd <<SQL
CREATE SCHEMA IF NOT EXISTS "$sc";
CREATE TABLE IF NOT EXISTS "$sc".vnd_meta (trace text, tbl text, tenant text, cap_point text,
  direction text, pattern text, source text, linktype bigint, parse_filter text,
  parse_fields text, packets_seen bigint, packets_matched bigint, packets_stored bigint,
  sampled_out bigint, dropped_kernel bigint, dropped_queue bigint, decode_anomalies bigint,
  sampling bigint, snaplen bigint, first_ts double precision, last_ts double precision,
  status text, message text, updated double precision);
CREATE TABLE "$sc"."$2" AS SELECT i AS vnd_rowid, i * 1e-5 AS ts, i % 65536 AS id,
  '10.0.1.' || (i % 200) AS src_ip, '10.0.2.' || (i % 7) AS dst_ip, 6::bigint AS proto,
  (1024 + i % 30000)::bigint AS src_port, (80 + i % 50)::bigint AS dst_port,
  (i * 1448)::bigint AS seq, (i * 7)::bigint AS ack, 16::bigint AS flags,
  (i % 1449)::bigint AS payload_len FROM generate_series(1, $N) i;
ANALYZE "$sc"."$2";
SQL
}
fill ts1 B
fill ts2 C
fill ts1 D alice-d2     # one table on both hosts (diagnosis 2)
fill ts2 D alice-d2

# the relay: counts the bytes each table server sends (one line per connection)
cat > "$W/relay.py" <<'PY'
import asyncio, sys
listen, target, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
async def pipe(r, w, count):
    n = 0
    try:
        while data := await r.read(65536):
            n += len(data)
            w.write(data)
            await w.drain()
    except Exception:
        pass
    w.close()
    count.append(n)
async def conn(cr, cw):
    sr, sw = await asyncio.open_connection('127.0.0.1', target)
    up, down = [], []
    await asyncio.gather(pipe(cr, sw, up), pipe(sr, cw, down))
    with open(log, 'a') as f:
        f.write(f"{down[0]}\n")
async def main():
    s = await asyncio.start_server(conn, '127.0.0.1', listen)
    async with s:
        await s.serve_forever()
asyncio.run(main())
PY
for i in ts1 ts2; do
    python3 "$W/relay.py" $(($(port "$i") + 100)) "$(port "$i")" "$W/bytes" &
    RELAYS+=($!)
done
for i in ts1 ts2; do      # the relays listen
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$(($(port "$i") + 100))") 2>/dev/null && break
        sleep 0.1
    done
done
: > "$W/bytes"
CI="host=$W/sc dbname=vnd_coord user=vnd_coord"
co() { "$B/tests/tool_coord" -p "$W/coord.pw" -t 600 "$CI" "$@"; }
for i in ts1 ts2; do
    co server "$i" "host=127.0.0.1 port=$(($(port "$i") + 100)) dbname=vnd user=vnd_fdw" "$W/fdw.pw"
done
co create alice 1 ts1:B ts2:C
co create alice 2 ts1:D ts2:D
DIAG=1 PTS="ts1:B ts2:C"

# measure NAME SQL: rows, best time, bytes the table servers sent (per run)
measure() {
    local name=$1 sql=$2 best= bytes=0 rows=0
    for _ in $(seq "$RUNS"); do
        : > "$W/bytes"
        local t0 t1
        t0=$(date +%s.%N)
        co query alice "$DIAG" csv "$sql" $PTS > "$W/out" || { echo "$name: failed"; return; }
        t1=$(date +%s.%N)
        rows=$(tail -n +2 "$W/out" | wc -l)
        sleep 0.2       # the relay logs a connection when it closes
        bytes=$(awk '{ s += $1 } END { print s + 0 }' "$W/bytes")
        best=$(awk -v a="$t0" -v c="$t1" -v b="$best" 'BEGIN { d = c - a; print (b == "" || d < b) ? d : b }')
    done
    printf '%-44s %8d %9.3fs %14d\n' "$name" "$rows" "$best" "$bytes"
}
echo "two table servers, $N rows each (B on ts1, C on ts2); bytes: what they sent the coordinator"
printf '%-44s %8s %10s %14s\n' query rows time bytes
AGG='dst_port, count(*), sum(payload_len)'
measure "B: GROUP BY dst_port (pushed down)"      "SELECT $AGG FROM \"B\" GROUP BY 1"
measure "B: the same, pushdown defeated"           "SELECT $AGG FROM (SELECT * FROM \"B\" OFFSET 0) s GROUP BY 1"
measure "B and C: each grouped on its host"        "SELECT 'B', $AGG FROM \"B\" GROUP BY 2 UNION ALL SELECT 'C', $AGG FROM \"C\" GROUP BY 2"
measure "B: WHERE dst_port = 81 (pushed down)"     "SELECT count(*) FROM \"B\" WHERE dst_port = 81"
measure "B join C on id, src_port (across hosts)"  "SELECT count(*) FROM \"B\" b JOIN \"C\" c ON b.id = c.id AND b.src_port = c.src_port"
measure "B: every ts, fetch_size 10000"            "SELECT count(*) FROM (SELECT ts FROM \"B\" OFFSET 0) s"

# one table on both hosts: the tenant's view is the UNION ALL of the two,
# below which PostgreSQL 15 sends no aggregate (nor below a partitioned
# table's foreign partitions unless the GROUP BY holds the partition key);
# the apps aggregate each part ("D@1", "D@2") on its host and combine
DIAG=2 PTS="ts1:D ts2:D"
echo "D: $N rows on ts1 and $N on ts2, one table (diagnosis 2)"
measure "D: count, sum through the view (UNION ALL)" "SELECT count(*), sum(payload_len) FROM \"D\""
measure "D: the same, per host there, summed here"   "SELECT sum(c), sum(s) FROM (SELECT count(*) c, sum(payload_len) s FROM \"D@1\" UNION ALL SELECT count(*), sum(payload_len) FROM \"D@2\") u"
measure "D: GROUP BY dst_port through the view"      "SELECT $AGG FROM \"D\" GROUP BY 1"
measure "D: the same, per host there, summed here"   "SELECT dst_port, sum(c), sum(s) FROM (SELECT $AGG FROM \"D@1\" GROUP BY 1 UNION ALL SELECT $AGG FROM \"D@2\" GROUP BY 1) u (dst_port, c, s) GROUP BY 1"
DIAG=1 PTS="ts1:B ts2:C"
"$PGBIN/psql" -X -q -h "$W/sc" -U vnd -d vnd_coord -c "ALTER SERVER vnd_ts_ts1 OPTIONS (SET fetch_size '100')"
measure "B: every ts, fetch_size 100 (the default)" "SELECT count(*) FROM (SELECT ts FROM \"B\" OFFSET 0) s"
