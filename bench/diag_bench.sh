#!/usr/bin/env bash
# diag_bench.sh — each diagnostic application on captures of about one
# million packets per table, in rows per second beside the paper's figures
# (§5.3, converted to rows/s: a 100 Mbit/s flow of 1500-byte packets is
# 8,333 packets/s).
#
#   throughput  "one second of a 100 Mbit/s flow in 0.03 s"  8,333/0.03 = 278K rows/s
#   rtt         "real time up to 1 Gbit/s"                  83,333 rows/s
#   loss        "10,000 records in 0.2 s"                    50,000 rows/s
#   delay, correlate: multi-table joins like loss            50,000 rows/s
#
# The captures come from the chain model (vnd demo --generate-only): one
# client, DURATION seconds (80 s ≈ 1M packets at each capture point).
#
#   bench/diag_bench.sh [DURATION=80]
set -eu
cd "$(dirname "$0")/.."
VND=${VND:-build/vnd}
DUR=${1:-80}
D=$(mktemp -d /tmp/vnd-diag-bench.XXXXXX)
trap 'rm -rf "$D"' EXIT
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

t0=$(now)
"$VND" demo --generate-only --dir "$D" --duration "$DUR" --join -1 --seed 7 >/dev/null
t1=$(now)
"$VND" parse -q -o "$D/t.db" "A=$D/A.pcap" "B=$D/B.pcap" "C=$D/C.pcap"
t2=$(now)
rows() { "$VND" query -d "$D/t.db" -f csv "SELECT count(*) FROM $1" | tail -1; }
NA=$(rows A); NB=$(rows B); NC=$(rows C)
printf 'generated %s s of traffic in %.1f s; parsed %d+%d+%d rows in %.1f s\n\n' \
    "$DUR" "$(sub "$t1" "$t0")" "$NA" "$NB" "$NC" "$(sub "$t2" "$t1")"
printf '%-34s %9s %8s %12s %12s %7s\n' app rows seconds rows/s paper_rows/s ratio
bench() {
    local name=$1 n=$2 paper=$3; shift 3
    local a b
    a=$(now)
    "$VND" diag "$@" -d "$D/t.db" -f csv >/dev/null
    b=$(now)
    awk -v name="$name" -v n="$n" -v s="$(sub "$b" "$a")" -v p="$paper" \
        'BEGIN { r = n / s; printf "%-34s %9d %8.2f %12.0f %12.0f %6.1fx\n", name, n, s, r, p, r / p }'
}
bench "throughput -t A (1 s slots)" "$NA" 277778 throughput -t A
bench "throughput -t A --by-flow" "$NA" 277778 throughput -t A --by-flow
bench "distribution -t A --field dst_port" "$NA" 277778 distribution -t A --field dst_port
bench "groups -t A --fields src_ip,dst_ip" "$NA" 277778 groups -t A --fields src_ip,dst_ip
bench "rtt -t A" "$NA" 83333 rtt -t A
bench "delay --in A --out B" $((NA + NB)) 50000 delay --in A --out B
bench "loss --in A --out B" $((NA + NB)) 50000 loss --in A --out B
bench "correlate --in A --out B --by id" $((NA + NB)) 50000 correlate --in A --out B --by id
bench "bottleneck --path A,B,C" $((NA + NB + NC)) 50000 bottleneck --path A,B,C
