#!/usr/bin/env bash
# correlate_bench.sh — paper §5.1.2: accuracy of `vnd diag correlate --by
# order` through a real haproxy against the connection rate, checked
# against haproxy's own log.  The bed is lib-ovs.sh's ovs_lb_up (two client
# namespaces, haproxy mode tcp roundrobin, three python3 backends, capture
# of both legs by vnd-tabled).  Per point CONNS connections (default 4,000,
# the paper's) at a target rate; the last point, "max", paces nothing and
# keeps 200 connections open per client: the fastest this machine sustains.
# Run once with haproxy on one thread (the paper's accept loop) and once
# with two (Debian's default here: one per CPU).
#
#   bench/correlate_bench.sh [BUILD=build] [CONNS=4000] [RATES="330 660 1000 1500 2000 max"]
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-4000}
RATES=${3:-330 660 1000 1500 2000 max}
TABLED=$PWD/$BUILD/vnd-tabled
VND=$PWD/$BUILD/vnd
source tests/lib.sh
source tests/integration/lib-ovs.sh
command -v haproxy >/dev/null || { echo "correlate_bench: haproxy is not installed"; exit 0; }
W=$(mktemp -d /tmp/vnd-corr-bench.XXXXXX)
cleanup() {
    ovs_lb_down
    ovs_tabled_down
    ovs_ns_down
    ovs_bed_down
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
printf '%-8s %-7s %10s %9s %6s %6s %6s %9s %10s %5s %8s %14s %8s %14s\n' nbthread target accepted/s "log lines" pairs right wrong accuracy "client err" lost batched "wrong unbatched" certain "wrong certain"
for nbt in 1 2; do
    ovs_bed_up || { echo "correlate_bench: cannot build the OVS test bed: $OVS_WHY"; exit 0; }
    ovs_tabled_up "$W" 7453 || { echo "correlate_bench: vnd-tabled did not start"; exit 0; }
    ovs_lb_up "$W" $nbt || { echo "correlate_bench: haproxy bed failed: $(tail -2 "$W/haproxy.err")"; exit 0; }
    for r in $RATES; do
        rate=$r; [ "$r" = max ] && rate=0
        R=$(ovs_lb_run "$W" "p${nbt}_$r" "$rate" "$N") || { echo "correlate_bench: run at $r failed"; continue; }
        read -r done arate pairs right logn errs lost batched walone certain wcertain <<<"$R"
        printf '%-8s %-7s %10s %9s %6s %6s %6s %8s%% %10s %5s %8s %14s %8s %14s\n' $nbt "$r" "$arate" "$logn" "$pairs" "$right" \
            $((pairs - right)) "$(awk -v a="$right" -v b="$logn" 'BEGIN { printf "%.2f", b ? 100 * a / b : 0 }')" \
            "$errs" "$lost" "$batched" "$walone" "$certain" "$wcertain"
        ovs_api DELETE /v1/traces/p${nbt}_${r}_fe; ovs_api DELETE /v1/traces/p${nbt}_${r}_be
    done
    cleanup; W=$(mktemp -d /tmp/vnd-corr-bench.XXXXXX)
done
echo "# accepted/s: haproxy's accept rate as the capture saw it (client ACKs, first to last);"
echo "# batched: connections whose backend SYN copy reached the mirror within 20 us of another's (one datapath batch);"
echo "# wrong unbatched: wrong pairs outside such batches (haproxy itself connected out of accept order)"
echo "# certain: pairs correlate marks certain (haproxy had that connection alone to open); wrong certain: of those, not as haproxy's log"
echo "# accuracy: pairs that match haproxy's log / connections haproxy logged; lost: frames OVS copied that the table server did not store"
