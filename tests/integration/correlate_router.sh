#!/usr/bin/env bash
# correlate_router.sh — paper §5.1.2, packet fingerprints through a router:
# a client namespace, a router namespace (ip_forward, two NICs, a tbf
# queue towards the server small enough to drop) and a server namespace
# on the OVS bed.  Capture rules copy what enters the router (from client
# and server ports) to trace RIN and what leaves it to ROUT; vnd-tabled
# stores both.  A TCP flow and a UDP flow above the tbf rate cross it.
# `vnd diag correlate --by id` on the table server's tenant database must
# pair every packet the router forwarded, each with its own flow, and
# leave unpaired exactly the packets the router dropped (tc -s: the tbf's
# dropped counter).  Skips when OVS cannot start here.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ovs.sh"
TABLED=${VND_TABLED:-$VND_BUILD/vnd-tabled}
W=$(mktemp -d /tmp/vnd-corr-router.XXXXXX)
SRV=
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null
    ovs_tabled_down
    ovs_ns_down
    ovs_bed_down
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
# the bed lock first: waiting for another bed is not this test's time
# (ovs_bed_up would take it again: reopening fd 9 lets a waiter in between)
if [ "$(id -u)" -eq 0 ] && command -v ovs-vswitchd >/dev/null; then
    bed_lock || { skip "another OVS test bed held /tmp/vnd-ovs-bed.lock for 600 s"; done_testing; exit 0; }
    bed_lock() { return 0; }
fi
( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep 110 >/dev/null & s=$!; wait $s
  echo "not ok - correlate_router.sh timed out"; kill -TERM $$ ) 2>/dev/null 9>&- &
WATCHDOG=$!
trap 'kill $WATCHDOG 2>/dev/null; cleanup' EXIT

if ! ovs_bed_up; then
    skip "OVS test bed: $OVS_WHY"
    done_testing; exit 0
fi
# h1 (port 1, 10.77.0.1) is the client; router rt: eth0 port 10, eth1 port 11;
# server sv: port 12.
if ! { ovs_ns_add rt 10 10.77.0.254/24 && ovs_ns_link rt eth1 11 10.78.0.254/24 &&
       ovs_ns_add sv 12 10.78.0.1/24 10.78.0.254 &&
       ip -n "$B_H1" route add 10.78.0.0/24 via 10.77.0.254 &&
       ip netns exec "$B_NS_rt" sysctl -qw net.ipv4.ip_forward=1 &&
       ip netns exec "$B_NS_rt" tc qdisc add dev eth1 root tbf rate 40mbit burst 16kb limit 30kb; }; then
    not_ok "router bed"; done_testing; exit 1
fi
ok "bed: client → router (ip_forward, tbf 40 Mbit/s, 30 kB queue) → server"
check "vnd-tabled captures the mirror port" ovs_tabled_up "$W" 7450
ovs_api POST /v1/traces '{"id": "RIN", "tag": 201}'
check_eq "trace RIN: what enters the router" "$B_CODE" 201
ovs_api POST /v1/traces '{"id": "ROUT", "tag": 202}'
check_eq "trace ROUT: what leaves it" "$B_CODE" 201
ovs_capture_rule 0x11 1 201 && ovs_capture_rule 0x12 12 201 &&
    ovs_capture_rule 0x21 10 202 && ovs_capture_rule 0x22 11 202
check_eq "four capture rules in table 0" "$(ofctl dump-flows "$B_BR" table=0 | grep -c 'cookie=0x[12][12]')" 4

iperf3_server "$B_NS_sv"; SRV=$IPERF_SRV
ip netns exec "$B_H1" timeout 20 iperf3 -c 10.78.0.1 -t 3 >"$W/tcp" 2>&1 9>&-
check "TCP flow through the router" test $? -eq 0
wait "$SRV" 2>/dev/null
iperf3_server "$B_NS_sv"; SRV=$IPERF_SRV
ip netns exec "$B_H1" timeout 20 iperf3 -c 10.78.0.1 -u -b 60M -l 1400 -t 2 >"$W/udp" 2>&1 9>&-
check "UDP flow at 60 Mbit/s through the 40 Mbit/s router" test $? -eq 0
wait "$SRV" 2>/dev/null; SRV=
sleep 2    # OVS's rule counters lag the datapath

DROPS=$(ip netns exec "$B_NS_rt" tc -s qdisc show dev eth1 | grep -o 'dropped [0-9]*' | head -1 | cut -d' ' -f2)
OVS_IN=$(( $(ovs_rule_packets 0x11) + $(ovs_rule_packets 0x12) ))
OVS_OUT=$(( $(ovs_rule_packets 0x21) + $(ovs_rule_packets 0x22) ))
DB=$W/t.db.tenants/default.db
q() { "$VND" query -d "$DB" -f csv "$1" | tail -1; }
IN=$(q "select count(*) from RIN where proto in (6, 17)")
OUT=$(q "select count(*) from ROUT where proto in (6, 17)")
echo "# router: tbf dropped $DROPS; OVS copied $OVS_IN in, $OVS_OUT out; TCP/UDP rows $IN in, $OUT out"
check "the router dropped packets (tc -s: $DROPS)" test "${DROPS:-0}" -gt 50
check_eq "RIN stored every frame OVS copied" "$(q 'select count(*) from RIN')" "$OVS_IN"
check_eq "ROUT stored every frame OVS copied" "$(q 'select count(*) from ROUT')" "$OVS_OUT"
ovs_api GET /v1/traces/RIN
check "the table server lost nothing" grep -q '"dropped_kernel":0,"dropped_queue":0' <<<"$(tr -d ' ' <<<"$B_BODY")"

if "$VND" diag correlate -d "$DB" --in RIN --out ROUT --by id -f csv >"$W/pairs.csv" 2>"$W/err"; then
    ok "vnd diag correlate --by id on the table server's database"
else
    not_ok "correlate: $(cat "$W/err")"
fi
read -r PAIRED WRONG FLOWS < <(awk -F, 'NR > 1 { p += $3; n++; if ($1 != $2) w += $3 } END { print p + 0, w + 0, n + 0 }' "$W/pairs.csv")
echo "# correlate: $FLOWS flow pairs, $PAIRED packets paired, $WRONG with another flow"
check_eq "every packet the router forwarded is paired" "$PAIRED" "$OUT"
check_eq "each with its own flow (a router rewrites no 4-tuple)" "$WRONG" 0
check_eq "unpaired input packets = the router's drops (tc -s)" "$((IN - PAIRED))" "$DROPS"
LOST=$("$VND" diag loss -d "$DB" --in RIN --out ROUT --list -f csv | tail -n +2 | wc -l)
check_eq "vnd diag loss --list names the same packets" "$LOST" "$DROPS"
done_testing
