#!/usr/bin/env bash
# cost.sh — the cost of measuring (CloudNet 2018, Fig. 2/3/8/9) on this
# machine's OVS test bed (`vnd testbed up`): the tenant flow's throughput
# and the CPU of ovs-vswitchd (and of hv1's table server) while the switch
# monitors it, for
#   none; sFlow 1:1, 1:10, 1:100, 1:1000 (header 128) and 1:1 with headers
#   64 and 256 (VND's Mode sflow: OVS's agent, VND's collector);
#   IPFIX (OVS's per-bridge exporter to a UDP port nothing reads) 1:1 and
#   1:100 without cache (cache_max_flows=0, no active timeout) and with a
#   cache (4096 flows) and active timeouts of 1 s and 60 s;
#   VND Mode mirror: every packet; Snaplen 128 (cut in the switch); Flow
#   Sampling 10 (1 flow in 10 copied by the switch); Sampling 10 (1 packet
#   in 10 kept by the table server, every packet still copied);
#   VND Mode tap: every packet read off the port's interface by the
#   table server (the switch copies nothing), whole and cut to 128 bytes
#   by the kernel.
# The tenant flow: alice's client -> her ids's input (10.0.1.1), P parallel
# iperf3 TCP connections for SECONDS (default 8 and 4), through hv1's
# userspace datapath; the capture point is the ids's input.  (The rest of
# the bed's path, ids -> server, crosses the delay line, a Python program
# where the kernel has no netem, which would measure Python, not OVS.)
# Each configuration is measured twice per run: iperf3 as fast as it goes
# (the paper's Fig. 2/9: throughput), then at a fixed RATE (default 100
# Mbit/s in all, the paper's Fig. 3/8 workload: CPU at a given load, which
# swings much less with the machine's other load than throughput does).
# Every configuration runs REPS times (default 3), round-robin so that a
# burst of load from the machine's other users spreads over all of them;
# the table gives medians.  Writes a table on stdout, the CSV of every run
# and of the medians, and the plot (bench/cost_plot.py):
#
#   bench/cost.sh [--build DIR] [--out DIR] [--reps N] [--seconds S] [--streams P]
#                 [--rate MBIT] [--only REGEX]
# Defaults: build, docs (cost.csv, cost-runs.csv, cost.svg), 4, 3, 8, 100.
# Needs root, OVS, iperf3, jq, python3; holds the OVS bed lock while the
# bed is up (about 6 minutes with the defaults).
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
BUILD=build OUT=docs REPS=4 SECS=3 STREAMS=8 RATE=100 ONLY=
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift ;;
    --out) OUT=$2; shift ;;
    --reps) REPS=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    --streams) STREAMS=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --only) ONLY=$2; shift ;;
    *) echo "usage: bench/cost.sh [--build DIR] [--out DIR] [--reps N] [--seconds S] [--streams P] [--only REGEX]" >&2; exit 2 ;;
    esac
    shift
done
VND=$TOP/$BUILD/vnd
export VND_TABLED=$TOP/$BUILD/vnd-tabled VND_CONTROLD=$TOP/$BUILD/vnd-controld
source tests/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "cost.sh: needs root (the OVS test bed)"; exit 0; }
for t in ovs-vswitchd iperf3 jq python3; do
    command -v $t >/dev/null || { echo "cost.sh: $t is not installed"; exit 0; }
done
[ -x "$VND" ] || { echo "cost.sh: $VND is not built (make)"; exit 1; }
mkdir -p "$OUT"
W=$(mktemp -d /tmp/vnd-cost.XXXXXX)
BED=$W/bed
SRV=
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null
    [ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
bed_lock || { echo "cost.sh: the OVS bed lock was not free in 600 s"; exit 1; }
T0=$SECONDS
"$VND" testbed up --dir "$BED" --delay 0 --loss 0 --port-base 7620 >"$W/up.log" 2>&1 9>&- \
    || { echo "cost.sh: vnd testbed up failed:"; cat "$W/up.log"; exit 1; }
source "$BED/env"
export VND_URL
BR=$TB_BRIDGE_HV1
vsctl() { ovs-vsctl --db="$TB_OVSDB" --timeout=10 "$@"; }
alice() { VND_TOKEN=$VND_TOKEN_ALICE "$VND" "$@"; }
OVS_PID=$(cat "$BED/ovs/vswitchd.pid")
TABLED_PID=$(awk '$1 == "pid" && $2 == "tabled-hv1" { print $3 }' "$BED/state")
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# The iperf3 server in the ids (its input's address), for the whole run.
ip netns exec "$TB_ALICE_IDS" iperf3 -s >/dev/null 2>&1 9>&- &
SRV=$!
sleep 0.5

# Configurations: NAME|KIND|ARGS
CONFIGS=(
    "none|none|"
    "sflow 1:1|sflow|1 128"
    "sflow 1:10|sflow|10 128"
    "sflow 1:100|sflow|100 128"
    "sflow 1:1000|sflow|1000 128"
    "sflow 1:1 h64|sflow|1 64"
    "sflow 1:1 h256|sflow|1 256"
    "ipfix 1:1 no cache|ipfix|1 0 0"
    "ipfix 1:1 cache t=1s|ipfix|1 4096 1"
    "ipfix 1:1 cache t=60s|ipfix|1 4096 60"
    "ipfix 1:100 no cache|ipfix|100 0 0"
    "ipfix 1:100 cache t=60s|ipfix|100 4096 60"
    "mirror full|vnd|"
    "mirror snaplen 128|vnd|Snaplen 128"
    "mirror flow 1:10|vnd|Flow Sampling 10"
    "mirror tabled 1:10|vnd|Sampling 10"
    "tap full|vnd|Mode tap"
    "tap snaplen 128|vnd|Mode tap\\nSnaplen 128"
)

DIAG=
# setup KIND ARGS: switch the monitoring on; teardown: off again
setup() {
    local kind=$1; shift
    case $kind in
    none) ;;
    sflow)
        printf 'Appliance Node : ids\nCap input\nproto=TCP\nMode sflow\nSampling %s\nSnaplen %s\n' "$1" "$2" >"$W/c.conf"
        alice submit -c "$W/c.conf" >"$W/submit.out" 2>&1 || { cat "$W/submit.out"; return 1; }
        DIAG=$(grep -o 'd[0-9]*' "$W/submit.out" | head -1) ;;
    ipfix)
        vsctl -- set bridge "$BR" ipfix=@i -- --id=@i create ipfix 'targets="127.0.0.1:9"' \
            "sampling=$1" "cache_max_flows=$2" "cache_active_timeout=$3" >/dev/null ;;
    vnd)
        # (ARGS: settings, "\\n" between them)
        printf 'Appliance Node : ids\nCap input\nproto=TCP\n%b\n' "$*" >"$W/c.conf"
        alice submit -c "$W/c.conf" >"$W/submit.out" 2>&1 || { cat "$W/submit.out"; return 1; }
        DIAG=$(grep -o 'd[0-9]*' "$W/submit.out" | head -1) ;;
    esac
}
teardown() {
    case $1 in
    ipfix) vsctl clear bridge "$BR" ipfix ;;
    sflow|vnd) [ -n "$DIAG" ] && alice stop "$DIAG" >/dev/null 2>&1; DIAG= ;;
    esac
}
# settle: waits (at most 10 s) until the table server is idle again, so that
# what a stopped configuration left to do (dropping its trace's tables and raw
# files, a checkpoint) cannot be counted against the next one.
# (Nanoseconds from schedstat: ticks of 10 ms over half a second cannot tell
# 0.7% of a core from 0.1%.)  Idle is under 0.3% of a core over 0.5 s.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
settle() {
    local a b
    for _ in $(seq 20); do
        a=$(cpu_ns "$TABLED_PID"); sleep 0.5; b=$(cpu_ns "$TABLED_PID")
        [ $((b - a)) -lt 1500000 ] && return
    done
    echo "cost.sh: the table server did not go idle in 10 s" >&2
}
# One run: iperf3 (at most RATE Mbit/s in all when given) with the CPU of
# ovs-vswitchd and the table server over it, and the copies that reached
# the mirror port's capture end (its kernel counter: what the switch sent
# there, whatever the table server made of them).
# Prints MBIT OVS_CPU% TABLED_CPU% COPIES_PER_S
copies() { cat "/sys/class/net/$TB_MIRROR_HV1/statistics/rx_packets" 2>/dev/null || echo 0; }
measure() {
    local o0 t0 o1 t1 w0 w1 p0 p1 rate=()
    [ -n "${1:-}" ] && rate=(-b "$(awk -v r="$1" -v p="$STREAMS" 'BEGIN { printf "%.3fM", r / p }')")
    o0=$(cpu_ticks "$OVS_PID"); t0=$(cpu_ticks "$TABLED_PID"); p0=$(copies); w0=$(date +%s.%N)
    ip netns exec "$TB_ALICE_CLIENT" timeout $((SECS + 20)) iperf3 -c 10.0.1.1 -t "$SECS" \
        -P "$STREAMS" "${rate[@]}" -J >"$W/iperf.json" 2>/dev/null 9>&-
    o1=$(cpu_ticks "$OVS_PID"); t1=$(cpu_ticks "$TABLED_PID"); p1=$(copies); w1=$(date +%s.%N)
    local mbit
    mbit=$(jq '.end.sum_received.bits_per_second / 1e6' "$W/iperf.json" 2>/dev/null)
    awk -v m="${mbit:-0}" -v o=$((o1 - o0)) -v t=$((t1 - t0)) -v p=$((p1 - p0)) -v w0="$w0" \
        -v w1="$w1" -v k="$TICK" \
        'BEGIN { printf "%.1f %.1f %.1f %.0f\n", m, 100 * o / k / (w1 - w0), 100 * t / k / (w1 - w0),
                 p / (w1 - w0) }'
}

echo "config,rep,mbit,ovs_cpu_pct,tabled_cpu_pct,fixed_mbit,fixed_ovs_cpu_pct,fixed_tabled_cpu_pct,copies_per_s,fixed_copies_per_s" >"$W/runs.csv"
for rep in $(seq "$REPS"); do
    for c in "${CONFIGS[@]}"; do
        IFS='|' read -r name kind args <<<"$c"
        [ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]] && continue
        settle
        # shellcheck disable=SC2086
        if ! setup "$kind" $args; then echo "cost.sh: $name: setup failed" >&2; teardown "$kind"; continue; fi
        sleep 1    # the agent, the exporter or the rules in place
        read -r mbit ocpu tcpu cps < <(measure)
        read -r fmbit focpu ftcpu fcps < <(measure "$RATE")
        teardown "$kind"
        echo "$name,$rep,$mbit,$ocpu,$tcpu,$fmbit,$focpu,$ftcpu,$cps,$fcps" >>"$W/runs.csv"
        printf '# run %d %-24s %7.1f Mbit/s  ovs-vswitchd %5.1f%%  table server %5.1f%% | at %s: %5.1f%% + %5.1f%%\n' \
            "$rep" "$name" "$mbit" "$ocpu" "$tcpu" "$fmbit" "$focpu" "$ftcpu" >&2
    done
done
kill "$SRV" 2>/dev/null; SRV=
"$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
exec 9>&-    # the bed is down: the lock goes
ELAPSED=$((SECONDS - T0))

cp "$W/runs.csv" "$OUT/cost-runs.csv"
python3 bench/cost_plot.py --runs "$OUT/cost-runs.csv" --csv "$OUT/cost.csv" --svg "$OUT/cost.svg" \
    --note "$(nproc) cores (shared; load $(cut -d' ' -f1-3 /proc/loadavg)), OVS $(ovs-vswitchd --version | awk 'NR==1 {print $NF}'), userspace datapath; $STREAMS iperf3 connections, ${SECS} s each, flat out and at $RATE Mbit/s; median of $REPS; $(date -u +%Y-%m-%d)"
echo "cost.sh: $((ELAPSED / 60)) min $((ELAPSED % 60)) s with the bed up; $OUT/cost.csv, $OUT/cost-runs.csv, $OUT/cost.svg"
