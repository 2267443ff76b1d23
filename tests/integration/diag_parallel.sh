#!/usr/bin/env bash
# diag_parallel.sh — the C steps that split their work over threads
# (scans cut by rowid, the bottleneck's points and hops) give the same rows
# on one thread and on several, and the same rows as their printed SQL;
# also when the table's rows are not in time order (X: appended, so
# without a rollup).  VND_THREADS=3 makes even these small tables split in three.
source "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/vnd-diag-par.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$VND" demo --generate-only --dir "$T" --duration 3 --join 1.5 --seed 11 >/dev/null
"$VND" parse -q -o "$T/t.db" "A=$T/A.pcap" "B=$T/B.pcap" "C=$T/C.pcap"
# X: B's rows, then A's: the first row is not the earliest
"$VND" parse -q -o "$T/t.db" "X=$T/B.pcap"
"$VND" parse -q --append -o "$T/t.db" "X=$T/A.pcap"
first=$("$VND" query -d "$T/t.db" -f csv "SELECT ts FROM X ORDER BY rowid LIMIT 1" | tail -1)
least=$("$VND" query -d "$T/t.db" -f csv "SELECT min(ts) FROM X" | tail -1)
check "table X starts with a row later than its earliest" \
    awk -v a="$first" -v b="$least" 'BEGIN { exit !(a > b) }'

for app in "throughput -t A" "throughput -t X" "throughput -t X --by-flow --slot 0.25" \
           "throughput -t B --by-flow" "throughput -t X --where 'tcp.dst = 40001'" \
           "distribution -t X --field src_ip" "distribution -t A --field dst_port" \
           "groups -t X --fields src_ip,dst_port,flags" "groups -t C --fields dst_ip" \
           "bottleneck --path A,B,C" "bottleneck --path C,B"; do
    eval "set -- $app"
    one=$(VND_THREADS=1 "$VND" diag "$@" -d "$T/t.db" -f csv 2>&1)
    three=$(VND_THREADS=3 "$VND" diag "$@" -d "$T/t.db" -f csv 2>&1)
    if [ -n "$one" ] && [ "$one" = "$three" ]; then ok "$app: 1 thread and 3 give the same rows"
    else not_ok "$app: 1 thread and 3 differ"; diff <(echo "$one") <(echo "$three") | head -5 | sed 's/^/# /'; fi
    # (the SQL's side is the same in every build: not again under TSan,
    # whose question is the threads)
    if [ "$1" != bottleneck ] && [[ $VND_BUILD != *tsan* ]]; then
        sql=$("$VND" diag "$@" -d "$T/t.db" --show-sql)
        got=$("$VND" query -d "$T/t.db" -f csv "$sql")
        check_eq "$app: 3 threads give the printed SQL's rows" "$three" "$got"
    fi
done

# an error in one piece is reported, whichever thread ran it
err=$(VND_THREADS=3 "$VND" diag bottleneck --path A,B,NOPE -d "$T/t.db" 2>&1 >/dev/null); rc=$?
check_eq "bottleneck with a missing table: exit status" "$rc" 1
check "bottleneck with a missing table: names it" grep -q NOPE <<<"$err"
# --timeout stops every thread: a bigger table, a 1 ms limit
mkdir -p "$T/big"
"$VND" demo --generate-only --dir "$T/big" --duration 20 --join -1 --seed 3 >/dev/null
"$VND" parse -q -o "$T/big.db" "A=$T/big/A.pcap" "B=$T/big/B.pcap"
# (throughput, groups, distribution: their rows' SQL; the rollup answers in less)
for app in "throughput -t A --by-flow --no-rollup" "groups -t A --fields src_ip,dst_ip --no-rollup" \
           "distribution -t A --field src_ip --no-rollup" "bottleneck --path A,B"; do
    eval "set -- $app"
    err=$(VND_THREADS=2 "$VND" diag "$@" -d "$T/big.db" --timeout 0.001 -f csv 2>&1 >/dev/null); rc=$?
    check_eq "$app: stopped at a 1 ms limit on 2 threads: exit status" "$rc" 1
    check "$app: says it hit the time limit" grep -q "stopped at the time limit" <<<"$err"
done
done_testing
