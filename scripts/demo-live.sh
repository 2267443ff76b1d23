#!/usr/bin/env bash
# demo-live.sh — `vnd demo --live`: the diagnosis of paper §5.1.1 (Fig. 10,
# 11) on real middleboxes, through the real service.  The test bed
# (scripts/testbed.sh --chain) gives tenant carol two clients, an "re" and
# an "ids" forwarding between namespaces, the ids limited by tc tbf so that
# it saturates when the second client starts, and a server.  Carol submits
# her collection and parse configurations with `vnd submit`, the clients
# download with iperf3, and `vnd diag` names the bottleneck and the moment
# it began; the script then holds VND's answers against the truth: when
# the second client started, and the ids's own drop counters (tc -s).
#
# Run by `vnd demo --live` (src/cli/cmd_testbed.c finds it), as root.
set -u
PROG="vnd demo --live"
usage() {
    cat <<'EOF'
usage: vnd demo --live [--ids-mbit N] [--rate MBIT] [--duration S] [--join S]
                       [--port-base N] [--keep DIR | --bed DIR]

The diagnosis of paper §5.1.1 on the live test bed (root): clients c1 and c2
download from a server through an "re" and an "ids" (network namespaces
forwarding packets; the ids limited to --ids-mbit by tc tbf).  c1 downloads
at --rate from t = 0; c2 joins at --join and the ids saturates.  Carol, the
tenant, captures A (client side of the re), B (between re and ids) and C
(server side of the ids) through `vnd submit`, and `vnd diag` finds the
bottleneck.  Each step says what it runs and how long it took; at the end
VND's findings are checked against the truth (exit 1 when one is off):
  - the bottleneck named is the ids,
  - it began within one slot (1 s) of the second client's start (or of the
    ids's first drop, when its tc counter shows one more than 1 s before),
  - the packets VND saw lost at the ids equal the ids's own drop counter
    (tc -s qdisc), plus what the switch dropped on receiving from the ids
    (ss: its packet sockets' drops), within 1%.

  --ids-mbit N   the ids's capacity toward the clients (default 40)
  --rate MBIT    each client's download rate (default 25: one fits, two do not)
  --duration S   how long c1 downloads (default 16)
  --join S       when c2 starts (default 6)
  --port-base N  ports of the bed's daemons (default 7560)
  --keep DIR     build the bed in DIR and leave it up afterwards
  --bed DIR      use a bed already up (vnd testbed up --chain N --dir DIR)

Everything it starts is removed at the end, also when it fails or is
interrupted (unless --keep or --bed).  docs/paper.md compares the figures
with the paper's.
EOF
}

IDS_MBIT=40 RATE=25 DURATION=16 JOIN=6 PORT_BASE=7560 KEEP= BED=
while [ $# -gt 0 ]; do
    case $1 in
    -h|--help) usage; exit 0 ;;
    --ids-mbit) IDS_MBIT=${2:?}; shift ;;
    --rate) RATE=${2:?}; shift ;;
    --duration) DURATION=${2:?}; shift ;;
    --join) JOIN=${2:?}; shift ;;
    --port-base) PORT_BASE=${2:?}; shift ;;
    --keep) KEEP=${2:?}; shift ;;
    --bed) BED=${2:?}; shift ;;
    *) echo "$PROG: unexpected '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
for n in "$IDS_MBIT" "$RATE" "$DURATION" "$JOIN" "$PORT_BASE"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "$PROG: '$n' is not a whole number (try --help)" >&2; exit 2; }
done
[ "$JOIN" -lt "$DURATION" ] || { echo "$PROG: --join must come before the end of --duration" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$PROG: must run as root (it builds a test bed)" >&2; exit 1; }
for t in iperf3 jq tc ip; do
    command -v $t >/dev/null || { echo "$PROG: needs $t (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
BIN=${VND_BIN_DIR:-$(cd "$(dirname "$0")/../build" 2>/dev/null && pwd)}
VND=$BIN/vnd
[ -x "$VND" ] || VND=$(command -v vnd) || { echo "$PROG: cannot find vnd" >&2; exit 1; }

WORK=$(mktemp -d /tmp/vnd-demo-live.XXXXXX)
OWN_BED=
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    if [ -n "$OWN_BED" ] && [ -z "$KEEP" ] && [ -f "$OWN_BED/state" ]; then
        "$VND" testbed down --dir "$OWN_BED" >"$WORK/down.log" 2>&1 \
            || { echo "$PROG: removing the bed failed:" >&2; cat "$WORK/down.log" >&2; }
        rm -rf "$OWN_BED"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

N=0 T_STEP=0
step() { N=$((N + 1)); T_STEP=$(date +%s.%N); printf '\n%d. %s\n' "$N" "$*"; }
took() { awk -v a="$(date +%s.%N)" -v b="$T_STEP" 'BEGIN { printf "   (%.1f s)\n", a - b }'; }
run() { printf '   $ %s\n' "$*"; "$@"; }
indent() { sed 's/^/   /'; }

echo "VND live demo: paper §5.1.1 on real middleboxes, through the service"

# ---------------------------------------------------------------- the bed
if [ -n "$BED" ]; then
    step "Using the test bed in $BED"
    [ -f "$BED/env" ] || { echo "$PROG: $BED has no env file: not a test bed" >&2; exit 1; }
else
    step "Building the test bed: two OVS hosts, the table servers, the control server,"
    printf '   and carol'"'"'s chain c1, c2 -> re -> ids (%s Mbit/s) -> server\n' "$IDS_MBIT"
    # One OVS bed at a time on a machine (tests/lib.sh bed_lock).
    exec 9>>/tmp/vnd-ovs-bed.lock
    flock -w 600 9 || { echo "$PROG: another test bed held /tmp/vnd-ovs-bed.lock for 600 s" >&2; exit 1; }
    BED=${KEEP:-$WORK/bed}
    OWN_BED=$BED
    printf '   $ vnd testbed up --chain %s --dir %s\n' "$IDS_MBIT" "$BED"
    "$VND" testbed up --chain "$IDS_MBIT" --dir "$BED" --port-base "$PORT_BASE" --delay 0 --loss 0 \
        >"$WORK/up.log" 2>&1 9>&- || { cat "$WORK/up.log" >&2; exit 1; }
    took
fi
source "$BED/env"
[ -n "${VND_TOKEN_CAROL:-}" ] || { echo "$PROG: the bed in $BED was built without --chain" >&2; exit 1; }
export VND_URL VND_TOKEN=$VND_TOKEN_CAROL
IDS_MBIT=$TB_CHAIN_MBIT

# ------------------------------------------------------------- submitting
step "Carol says what to capture, in the names of her own network (paper Fig. 5):"
cat >"$WORK/collect.conf" <<'EOF'
# A: where the re hands the server's data to the clients (their ACKs come in there)
Appliance Node : re
Cap output
srcIP=10.0.3.2/32
proto=TCP
dualDirect=True
# B: between the re and the ids
Cap input
srcIP=10.0.3.2/32
proto=TCP
dualDirect=True
# C: where the server's data enters the ids
Appliance Node : ids
Cap input
srcIP=10.0.3.2/32
proto=TCP
dualDirect=True
EOF
FIELDS='Fields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip,
        ip.proto as proto, tcp.src as src_port, tcp.dst as dst_port,
        tcp.seq as seq, tcp.ack as ack, tcp.flags as flags, payload.len as payload_len'
{
    echo "# Fig. 7: a table per capture point, both directions in it"
    echo "Trace ID re_out, re_out_rev"; echo "Table ID A"; echo "$FIELDS"
    echo "Trace ID re_in, re_in_rev"; echo "Table ID B"; echo "$FIELDS"
    echo "Trace ID ids_in, ids_in_rev"; echo "Table ID C"; echo "$FIELDS"
} >"$WORK/parse.conf"
grep -v '^#' "$WORK/collect.conf" | paste -sd' ' | fold -w 76 -s | indent
echo "   and how to parse it (Fig. 7): tables A, B, C with the standard columns."
(cd "$WORK" && run "$VND" submit -c collect.conf -p parse.conf) >"$WORK/submit.out" 2>&1 \
    || { cat "$WORK/submit.out" >&2; exit 1; }
indent <"$WORK/submit.out" | sed -n '1,12p'
ID=$(grep -o 'd[0-9]\+' "$WORK/submit.out" | head -1)
echo "   The control server placed six traces on the bridge of the hosts where the"
echo "   re and the ids run; carol sees only her names ($ID)."
took

# ---------------------------------------------------------------- traffic
step "Traffic: c1 downloads at $RATE Mbit/s for $DURATION s; c2 joins at t = $JOIN s"
ip netns exec "$TB_CAROL_SERVER" iperf3 -s -p 5201 -1 >/dev/null 2>&1 9>&- & PIDS+=($!)
ip netns exec "$TB_CAROL_SERVER" iperf3 -s -p 5202 -1 >/dev/null 2>&1 9>&- & PIDS+=($!)
sleep 0.5
tc -s -n "$TB_CAROL_IDS" qdisc show dev out >"$WORK/tc.before"
# Frames the ids sent that the switch's own receive queue had no room for
# (the userspace datapath reads each port with a packet socket; ss shows
# its drops, "d" of skmem): lost in the ids's hop, past its tbf
sw_drops() {
    ss -0 -e -m -p 2>/dev/null | awk -v a="*:vnd${TB_ID}cio" -v b="*:vnd${TB_ID}cii" '
        $4 == a || $4 == b { want = 1; next }
        want && /skmem/ { if (match($0, /,d[0-9]+\)/)) s += substr($0, RSTART + 2, RLENGTH - 3); want = 0 }
        END { print s + 0 }'
}
SW_BEFORE=$(sw_drops)
# the drop counter of tc -s output (a file, or standard input)
drops() { sed -n 's/.*dropped \([0-9]*\).*/\1/p' "${1:--}" | head -1; }
# the ids's drop counter over time: when it really began to drop (under
# load a burst of c1's slow start may overflow it before c2 joins)
( while :; do
      printf '%s %s\n' "$(date +%s.%N)" "$(tc -s -n "$TB_CAROL_IDS" qdisc show dev out | drops)"
      sleep 0.1
  done ) >"$WORK/tc.series" 2>/dev/null 9>&- & TC_SAMPLER=$!; PIDS+=($TC_SAMPLER)
T_C1=$(date +%s.%N)
ip netns exec "$TB_CAROL_C1" iperf3 -c 10.0.3.2 -p 5201 -R -b "${RATE}M" -t "$DURATION" -J \
    >"$WORK/c1.json" 2>&1 9>&- & C1=$!; PIDS+=($C1)
sleep "$JOIN"
T_C2=$(date +%s.%N)
ip netns exec "$TB_CAROL_C2" iperf3 -c 10.0.3.2 -p 5202 -R -b "${RATE}M" -t "$((DURATION - JOIN))" -J \
    >"$WORK/c2.json" 2>&1 9>&- & C2=$!; PIDS+=($C2)
wait "$C1" "$C2"
sleep 1.5    # the table servers commit every half second
kill "$TC_SAMPLER" 2>/dev/null
tc -s -n "$TB_CAROL_IDS" qdisc show dev out >"$WORK/tc.after"
SW_DROPS=$(( $(sw_drops) - SW_BEFORE ))
for c in c1 c2; do
    printf '   %s received %.1f Mbit/s (iperf3)\n' "$c" \
        "$(jq '.end.sum_received.bits_per_second / 1e6' "$WORK/$c.json")"
done
# The experiment needs a bed that carries one client at its rate: before c2
# joins, c1 alone is under the ids's capacity and should get what it asks.
ALONE=$(jq --argjson j "$JOIN" '[.intervals[] | select(.sum.end <= $j - 0.5) | .sum.bits_per_second]
        | if length > 0 then add / length / 1e6 else 0 end' "$WORK/c1.json")
printf '   c1 alone (before c2 joined): %.1f Mbit/s of the %s it asked\n' "$ALONE" "$RATE"
took

step "Completeness of the capture (vnd status $ID):"
"$VND" status "$ID" >"$WORK/status.out" 2>&1
indent <"$WORK/status.out"
took

# -------------------------------------------------------------- diagnosis
step "Throughput per flow at A, the clients' side (vnd diag throughput --by-flow):"
printf '   $ vnd diag throughput --diagnosis %s -t A --by-flow --plot\n' "$ID"
"$VND" diag throughput --diagnosis "$ID" -t A --by-flow --plot 2>&1 | tail -22 | indent
took

step "RTT at each capture point (vnd diag rtt), the mean over the capture:"
echo "   (data segment to the ACK that covers it, seen at that point: C - B is the"
echo "   time the ids holds a packet, B - A the re's)"
for p in A B C; do
    "$VND" diag rtt --diagnosis "$ID" -t "$p" -f json >"$WORK/rtt_$p.json" 2>&1
    printf '   %s: %s ms over %s samples\n' "$p" \
        "$(jq '([.rows[] | .mean_ms * .packets] | add) / ([.rows[] | .packets] | add) * 100 | round / 100' "$WORK/rtt_$p.json")" \
        "$(jq '[.rows[] | .packets] | add // 0' "$WORK/rtt_$p.json")"
done
took

step "Where is the bottleneck? (vnd diag bottleneck --path A,B,C)"
printf '   $ vnd diag bottleneck --diagnosis %s --path A,B,C\n' "$ID"
"$VND" diag bottleneck --diagnosis "$ID" --path A,B,C --plot 2>&1 | tail -30 | indent
"$VND" diag bottleneck --diagnosis "$ID" --path A,B,C -f json >"$WORK/bn.json" 2>&1
took

step "Packets lost at the ids (vnd diag loss --in C --out B):"
"$VND" diag loss --diagnosis "$ID" --in C --out B -f json >"$WORK/loss.json" 2>&1
LOST=$(jq '[.rows[] | .lost // 0] | add // 0' "$WORK/loss.json")
echo "   $LOST packets entered the ids and never left it"
# a starved switch may hold packets past the window: they left, late
LATE=$(jq '[.rows[] | .late // 0] | add // 0' "$WORK/loss.json")
[ "$LATE" = 0 ] || echo "   $LATE more left it later than the 1-s window: late, not lost (vnd diag loss --list: left_after)"
# what the captures missed counts as lost too, and loss says so
jq -r '.capture_drops // [] | .[] | .text' "$WORK/loss.json" | fold -s -w 72 | indent
took

# ------------------------------------------------------------------ truth
step "VND against the truth"
TC_DROPS=$(( $(drops "$WORK/tc.after") - $(drops "$WORK/tc.before") ))
FIRST=$(jq '[.traces[] | .first_ts // empty] | min' <("$VND" status "$ID" -f json))
JOIN_T=$(awk -v a="$T_C2" -v b="$FIRST" 'BEGIN { printf "%.3f", a - b }')
# the ids's first drop (tc, sampled every 0.1 s: at most that late)
DROP_T=$(awk -v b="$FIRST" -v d0="$(drops "$WORK/tc.before")" \
    '$2 != "" && $2 > d0 { printf "%.3f", $1 - b - 0.1; exit }' "$WORK/tc.series")
HOP=$(jq -r '.verdict.hop // "none"' "$WORK/bn.json")
FROM=$(jq -r '.verdict.from // ""' "$WORK/bn.json")
TO=$(jq -r '.verdict.to // ""' "$WORK/bn.json")
SINCE=$(jq -r '.verdict.since_s // "none"' "$WORK/bn.json")
FAIL=0
verdict() {   # WHAT FOUND TRUTH OK
    printf '   %-34s %-22s %-22s %s\n' "$1" "$2" "$3" "$([ "$4" = 1 ] && echo ok || echo WRONG)"
    [ "$4" = 1 ] || FAIL=1
}
printf '   %-34s %-22s %-22s\n' "" "VND found" "truth"
verdict "the bottleneck" "hop $FROM>$TO" "the ids (B>C)" \
    "$([ "$FROM" = B ] && [ "$TO" = C ] && echo 1 || echo 0)"
# The ids is the bottleneck from c2's start; a hop that lost packets became
# one when it first lost (diag_bottleneck.c), and the ids may really drop
# earlier (seen under two busy loops: c1's slow start overflowed its queue
# at t = 0, tc counted it).  Either is the truth, each as tc or iperf3
# measured it.
TRUTH="t = $(printf %.2f "$JOIN_T") s (c2 starts)"
EARLY=$(awk -v d="$DROP_T" -v j="$JOIN_T" 'BEGIN { print (d != "" && d < j - 1) ? 1 : 0 }')
[ "$EARLY" = 1 ] && TRUTH="$TRUTH; t = $(printf %.1f "$DROP_T") s (the ids's first drop, tc)"
verdict "it began at" "t = $SINCE s" "$TRUTH" \
    "$(awk -v s="$SINCE" -v j="$JOIN_T" -v d="$DROP_T" -v e="$EARLY" 'function near(a, b) { return (a - b <= 1 && b - a <= 1) }
        BEGIN { print (s != "none" && (near(s, j) || (e && near(s, d)))) ? 1 : 0 }')"
# (TCP may share the ids's 20 ms queue without overflowing it: then the
# truth is no loss, and VND must find none)
TRUTH="$TC_DROPS (tc -s, the ids)"
[ "$SW_DROPS" -gt 0 ] && TRUTH="$((TC_DROPS + SW_DROPS)) (tc -s $TC_DROPS, the switch's receive $SW_DROPS)"
verdict "packets lost at the ids" "$LOST" "$TRUTH" \
    "$(awk -v l="$LOST" -v d="$((TC_DROPS + SW_DROPS))" 'BEGIN { x = l - d; if (x < 0) x = -x; print (x <= 0.01 * d) ? 1 : 0 }')"
took

if [ -n "$KEEP" ]; then
    # kept to be looked into: the traces stay with the bed
    echo; echo "The bed stays up with diagnosis $ID and its traces (vnd query --diagnosis $ID ...):"
    echo "source $BED/env; vnd stop $ID ends the diagnosis; vnd testbed down --dir $BED removes the bed."
elif [ -z "$OWN_BED" ]; then
    echo; echo "The bed stays up: source $BED/env; vnd testbed down --dir $BED removes it."
    "$VND" stop "$ID" >/dev/null 2>&1
fi
echo
if [ "$FAIL" = 0 ]; then
    echo "The ids is the bottleneck, from the moment the second client joined: as the"
    echo "paper found, by SQL over traces captured where the tenant asked."
else
    echo "Some of VND's findings are off the truth (WRONG above)."
fi
exit "$FAIL"
