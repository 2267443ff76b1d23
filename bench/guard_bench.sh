#!/usr/bin/env bash
# guard_bench.sh [PACKETS] [BUILD] — what the tenant walls cost a query:
# the same SQL through the sqlite3 shell (no guard: the reference), through
# `vnd query` (guard, per-query memory budget, printf replaced), and
# through `vnd query --trace A` (a table list: the compiled program is
# checked as well).  Best of RUNS (default 3) each, same invocation.
set -u
cd "$(dirname "$0")/.."
N=${1:-1000000}
B=${2:-build}
RUNS=${RUNS:-3}
command -v sqlite3 >/dev/null || { echo "guard_bench: needs the sqlite3 shell"; exit 0; }
W=$(mktemp -d /tmp/vnd-guard-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$B/bench/gen_capture" "$W/in.pcap" "$N" 64 >/dev/null
"$B/vnd" parse -q -o "$W/t.db" A="$W/in.pcap" B="$W/in.pcap"
best() {   # best wall time of RUNS runs of "$@", in seconds
    local b=
    for _ in $(seq "$RUNS"); do
        local t0 t1
        t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
        b=$(awk -v a="$t0" -v c="$t1" -v b="$b" 'BEGIN { d = c - a; print (b == "" || d < b) ? d : b }')
    done
    echo "$b"
}
SCAN="select src_ip, count(*), sum(payload_len) from A group by src_ip order by 2 desc limit 5"
JOIN="select count(*) from A a join A b using(ts, src_port) where a.dst_port = b.dst_port"
printf '%-34s %10s %10s %12s\n' "query ($N rows)" "sqlite3" "vnd query" "--trace A"
for name in SCAN JOIN; do
    sql=${!name}
    s=$(best sqlite3 "$W/t.db" "$sql")
    v=$(best "$B/vnd" query -d "$W/t.db" -f csv "$sql")
    r=$(best "$B/vnd" query -d "$W/t.db" --trace A -f csv "$sql")
    printf '%-34s %9.3fs %9.3fs %11.3fs   (%.2fx, %.2fx the shell)\n' "$name" "$s" "$v" "$r" \
        "$(awk -v a="$v" -v b="$s" 'BEGIN { print a / b }')" "$(awk -v a="$r" -v b="$s" 'BEGIN { print a / b }')"
done
# What each query pays before its first row: open, walls, prepare.
p=$(best bash -c 'for i in $(seq 200); do "$0" query -d "$1" -f csv "$2"; done' "$B/vnd" "$W/t.db" "select 1")
q=$(best bash -c 'for i in $(seq 200); do "$0" query -d "$1" --trace A -f csv "$2"; done' "$B/vnd" "$W/t.db" "select 1")
s=$(best bash -c 'for i in $(seq 200); do sqlite3 "$0" "$1"; done' "$W/t.db" "select 1")
printf '%-34s %9.3fs %9.3fs %11.3fs   (200 runs of `select 1`)\n' "start-up" "$s" "$p" "$q"
