#!/usr/bin/env bash
# correlate_haproxy.sh — paper §5.1.2, the L4 balancer case: a real haproxy
# (mode tcp, balance roundrobin, one thread as the paper's) splits every
# connection of two client namespaces into a client-side and a
# server-side connection to one of three backend namespaces; every client
# fetches the same 1,000 bytes, so neither headers nor payloads link the
# halves.  Capture rules copy the client side (client and haproxy-front
# ports) to one trace and the server side (haproxy-back and backend ports)
# to another; vnd-tabled stores them.  4,000 connections at the paper's 330
# connections/s; `vnd diag correlate --by order` on the table server's
# tenant database must pair every one as haproxy's own log does (the log
# records client address:port → frontend and backend source address:port →
# server).  The sweep over rates is bench/correlate_bench.sh.
# Skips when OVS or haproxy cannot start here.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ovs.sh"
TABLED=${VND_TABLED:-$VND_BUILD/vnd-tabled}
RATE=${CORR_RATE:-330} N=${CORR_CONNS:-4000}
W=$(mktemp -d /tmp/vnd-corr-lb.XXXXXX)
cleanup() {
    ovs_lb_down
    ovs_tabled_down
    ovs_ns_down
    ovs_bed_down
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
command -v haproxy >/dev/null || { skip "haproxy is not installed"; done_testing; exit 0; }
# the bed lock first: waiting for another bed is not this test's time
# (ovs_bed_up would take it again: reopening fd 9 lets a waiter in between)
if [ "$(id -u)" -eq 0 ] && command -v ovs-vswitchd >/dev/null; then
    bed_lock || { skip "another OVS test bed held /tmp/vnd-ovs-bed.lock for 600 s"; done_testing; exit 0; }
    bed_lock() { return 0; }
fi
( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep 120 >/dev/null & s=$!; wait $s
  echo "not ok - correlate_haproxy.sh timed out"; kill -TERM $$ ) 2>/dev/null 9>&- &
WATCHDOG=$!
trap 'kill $WATCHDOG 2>/dev/null; cleanup' EXIT

if ! ovs_bed_up; then
    skip "OVS test bed: $OVS_WHY"
    done_testing; exit 0
fi
check "vnd-tabled captures the mirror port" ovs_tabled_up "$W" 7451
if ovs_lb_up "$W" 1; then
    ok "haproxy (mode tcp, roundrobin, nbthread 1) in front of 3 backends answers"
else
    not_ok "haproxy bed: $(tail -3 "$W/haproxy.err" 2>/dev/null)"; done_testing; exit 1
fi
t0=$(date +%s.%N)
R=$(ovs_lb_run "$W" r$RATE "$RATE" "$N") || { not_ok "run: $(cat "$W/r$RATE.err" 2>/dev/null)"; done_testing; exit 1; }
read -r DONE ARATE PAIRS RIGHT LOGN ERRS LOST BATCHED WALONE CERTAIN WCERTAIN <<<"$R"
echo "# $N connections at $RATE/s: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s;" \
     "haproxy accepted at $ARATE/s; correlate: $PAIRS pairs, $RIGHT as haproxy's log;" \
     "$BATCHED backend SYNs shared a datapath batch"
check_eq "every client connection completed" "$DONE,$ERRS" "$N,0"
check_eq "haproxy logged every connection" "$LOGN" "$N"
check_eq "the table server has every frame OVS copied" "$LOST" 0
check "accept rate near $RATE/s ($ARATE)" test "$ARATE" -ge $((RATE * 9 / 10)) -a "$ARATE" -le $((RATE * 11 / 10))
check_eq "correlate --by order lists every connection" "$PAIRS" "$N"
check_eq "every pair whose backend SYN had a datapath batch of its own is right" "$WALONE" 0
# what the tool itself can vouch for: a pair is certain when haproxy had
# only that connection to open (docs/diagnosis.md)
check_eq "every pair correlate marks certain is right ($CERTAIN of $N certain)" "$WCERTAIN" 0
# The paper's 100%.  With megaflows (VND_LB_EXACT=0), SYNs that OVS's
# userspace datapath read in one batch reach the mirror port grouped by
# backend, not in wire order, and no capture-time method can order them:
# a few of 4,000 on a loaded machine, each inside such a batch (checked
# above).  The bed runs with exact-match datapath flows, which keep most
# batches in wire order (lib-ovs.sh, docs/paper.md §5.1.2) but not every
# one: 4,000 of 4,000 in most runs, 3,998 (one swapped pair, inside a
# shared batch) in about one run of three, and 3,989 once in a full run
# (164 backend SYNs in shared batches that time).  The paper's 100% is the
# aim; what is asserted is what the capture can promise: every miss inside
# a shared batch (above), and no more misses than such batches allow.
echo "# pairs right: $RIGHT of $N ($(awk -v r="$RIGHT" -v n="$N" 'BEGIN { printf "%.2f", 100 * r / n }')%)"
if [ "${VND_LB_EXACT:-1}" = 1 ]; then
    check "at least 99.5% of pairs as haproxy's log has them, each miss in a shared batch ($RIGHT of $N; the paper: 100%)" \
        test "$RIGHT" -ge $((N * 995 / 1000)) -a $((N - RIGHT)) -le "$BATCHED"
else
    check "at least 99.5% of pairs as haproxy's log has them ($RIGHT of $N)" \
        test "$RIGHT" -ge $((N * 995 / 1000))
fi
awk -F, 'NR > 1 && $6 < 0 { n++ } END { exit n > 0 }' "$W/r$RATE.csv"
check "no backend SYN before its client's ACK (gap_ms >= 0)" test $? -eq 0
done_testing
