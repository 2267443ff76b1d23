#!/usr/bin/env bash
# capture_overhead.sh — paper §5.2 / Fig. 12 on the OVS test bed: what
# mirroring a flow to the table server costs the tenant's flows.
#
# Four VM pairs on one bridge (userspace datapath): h1 → h2 (flow A, the
# tenant flow), h3 → h4 (B), h5 → h6 (C), h7 → h8 (D); iperf3 TCP, each
# phase SECONDS long (default 5).  vnd-tabled stores every packet of what
# is captured (whole frames, default columns).
#   (a) Fig. 12(a): A's throughput alone without capture, alone with its
#       own capture; A and B together without capture, with B captured
#       (capture of another flow on the same bridge), with both captured.
#   (b) Fig. 12(b): the spare forwarding capacity of the bridge: A with
#       its capture running, then B, C, D started beside it; the bridge's
#       total (all flows) against the same steps without capture.
# Reports Mbit/s (iperf3 receiver), packets the rules copied to the
# mirror port and what vnd-tabled stored and dropped.
#
#   bench/capture_overhead.sh [BUILD=build] [SECONDS=5]
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SECS=${2:-5}
TABLED=$PWD/$BUILD/vnd-tabled
VND=$PWD/$BUILD/vnd
source tests/lib.sh
source tests/integration/lib-ovs.sh
W=$(mktemp -d /tmp/vnd-ovh.XXXXXX)
SRVS=
cleanup() {
    for p in $SRVS; do kill "$p" 2>/dev/null; done
    ovs_tabled_down
    ovs_ns_down
    ovs_bed_down
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
ovs_bed_up || { echo "capture_overhead: cannot build the OVS test bed: $OVS_WHY"; exit 0; }
for i in 3 4 5 6 7 8; do
    ovs_ns_add h$i $((17 + i)) 10.77.0.$i/24 || { echo "capture_overhead: namespace h$i failed"; exit 0; }
done
ovs_tabled_up "$W" 7452 || { echo "capture_overhead: vnd-tabled did not start"; exit 0; }
ns_of() { case $1 in 1) echo "$B_H1" ;; 2) echo "$B_H2" ;; *) local v=B_NS_h$1; echo "${!v}" ;; esac; }
# flows: A = 1→2 (port 1), B = 3→4 (port 20), C = 5→6 (22), D = 7→8 (24)
declare -A SRC=([A]=1 [B]=3 [C]=5 [D]=7) DST=([A]=2 [B]=4 [C]=6 [D]=8) PORT=([A]=1 [B]=20 [C]=22 [D]=24)
for f in A B C D; do
    ip netns exec "$(ns_of ${DST[$f]})" iperf3 -s >/dev/null 2>&1 9>&- &
    SRVS="$SRVS $!"
done
sleep 0.5
TAG=500
# capture FLOW...: one trace and rule per flow (cookie 0x5<n>)
capture() {
    local f
    for f in "$@"; do
        TAG=$((TAG + 1))
        ovs_api POST /v1/traces "{\"id\": \"c$TAG\", \"tag\": $TAG}"
        ovs_capture_rule 0x5$TAG "${PORT[$f]}" $TAG
        CAPS="$CAPS $TAG"
    done
}
uncapture() {
    local t
    for t in $CAPS; do ovs_del_rules 0x5$t; ovs_api DELETE /v1/traces/c$t; done
    CAPS=
}
# run FLOW...: the flows side by side; sets MB[f], TOTAL; counts copies
run() {
    local f pids=
    for f in "$@"; do
        ip netns exec "$(ns_of ${SRC[$f]})" timeout $((SECS + 20)) iperf3 -c 10.77.0.${DST[$f]} \
            -t "$SECS" -f m >"$W/$f.out" 2>&1 9>&- &
        pids="$pids $!"
    done
    wait $pids
    TOTAL=0
    for f in "$@"; do
        MB[$f]=$(awk '/receiver/ { print $(NF-2) }' "$W/$f.out")
        TOTAL=$(awk -v a="$TOTAL" -v b="${MB[$f]:-0}" 'BEGIN { print a + b }')
    done
    sleep 1.5
    COPIED=0 STORED=0 DROPPED=0
    local t
    for t in $CAPS; do
        COPIED=$((COPIED + $(ovs_rule_packets 0x5$t)))
        ovs_api GET /v1/traces/c$t
        local b; b=$(tr -d ' ' <<<"$B_BODY")
        STORED=$((STORED + $(grep -o '"stored":[0-9]*' <<<"$b" | cut -d: -f2)))
        DROPPED=$((DROPPED + $(grep -o '"dropped_kernel":[0-9]*' <<<"$b" | cut -d: -f2) + $(grep -o '"dropped_queue":[0-9]*' <<<"$b" | cut -d: -f2)))
    done
}
declare -A MB
CAPS=
row() { printf '%-34s %8s %8s %8s %10s %10s %7s\n' "$@"; }
echo "(a) tenant flow throughput, Fig. 12(a) — Mbit/s, $SECS s per phase"
row phase A B total copied stored drops
run A;                row "A alone, no capture" "${MB[A]}" - "$TOTAL" 0 - -
capture A; run A;     row "A alone, A captured" "${MB[A]}" - "$TOTAL" "$COPIED" "$STORED" "$DROPPED"; uncapture
run A B;              row "A + B, no capture" "${MB[A]}" "${MB[B]}" "$TOTAL" 0 - -
capture B; run A B;   row "A + B, B captured (other flow)" "${MB[A]}" "${MB[B]}" "$TOTAL" "$COPIED" "$STORED" "$DROPPED"; uncapture
capture A B; run A B; row "A + B, both captured" "${MB[A]}" "${MB[B]}" "$TOTAL" "$COPIED" "$STORED" "$DROPPED"; uncapture
echo
echo "(b) spare forwarding capacity of the bridge, Fig. 12(b) — total Mbit/s of all flows"
printf '%-22s %14s %22s %10s %7s\n' flows "no capture" "A captured (others not)" copied drops
for set in "A" "A B" "A B C" "A B C D"; do
    run $set; off=$TOTAL
    capture A; run $set; on=$TOTAL
    printf '%-22s %14s %22s %10s %7s\n' "$set" "$off" "$on" "$COPIED" "$DROPPED"; uncapture
done
echo "# copied: packets the capture rules sent to the mirror port (OVS rule counters);"
echo "# stored/drops: vnd-tabled's rows and its kernel + queue drops; CPUs: $(nproc)"
