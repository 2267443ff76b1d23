#!/usr/bin/env bash
# tap_e2e.sh — Mode tap on the OVS test bed (`vnd testbed up`), end to end
# through the control server: alice's `Mode tap, dualDirect=True` on her
# ids input puts no rule in the switch; hv1's table server reads the
# port's own interface (a packet socket each way, the pattern as the
# kernel's filter); every payload byte iperf3's server received is in
# ids_in, the server's ACKs in ids_in_rev, none of bob's traffic (the same
# addresses, his own ids); vnd_meta and the apps say tap; the operator's
# policy view explains it; stopping the diagnosis closes the sockets.
# Skips without root or when OVS cannot start.
source "$(dirname "$0")/../lib.sh"
VND=${VND:-$VND_BUILD/vnd}
BIN=$(cd "$(dirname "$VND")" && pwd)
export VND_TABLED=${VND_TABLED:-$BIN/vnd-tabled} VND_CONTROLD=${VND_CONTROLD:-$BIN/vnd-controld}
W=$(mktemp -d /tmp/vnd-tap.XXXXXX)
BED=$W/bed
cleanup() {
    [ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
    rm -rf "$W"
}
if [ "$(id -u)" -ne 0 ]; then skip "mode tap: needs root"; done_testing; exit 0; fi
for t in ovs-vswitchd iperf3 jq curl; do
    command -v $t >/dev/null || { skip "mode tap: $t is not installed"; done_testing; exit 0; }
done
bed_lock || { not_ok "the OVS bed lock was not free in 600 s"; done_testing; exit 1; }
trap cleanup EXIT
if ! "$VND" testbed up --dir "$BED" --delay 1 --loss 0 --port-base 7740 >"$W/up.log" 2>&1 9>&-; then
    not_ok "vnd testbed up"; sed 's/^/#   /' "$W/up.log"; done_testing; exit 1
fi
ok "vnd testbed up"
source "$BED/env"
export VND_URL
alice() { VND_TOKEN=$VND_TOKEN_ALICE "$VND" "$@"; }
DEV=vnd${TB_ID}ain               # alice's ids "in" port, the switch's end
IFX=$(cat "/sys/class/net/$DEV/ifindex")
# packet sockets bound to the port's interface (the switch's own is one)
sockets() { awk -v i="$IFX" 'NR > 1 && $5 == i' /proc/net/packet | wc -l; }
S0=$(sockets)

printf 'Appliance Node : ids\nCap input\nproto=TCP\ndualDirect=True\nMode tap\n' >"$W/tap.conf"
printf 'Trace ID all\nFields: timestamp as ts, frame.len as len, ip.src as src_ip, ip.dst as dst_ip,\n  tcp.src as src_port, tcp.dst as dst_port, payload.len as payload_len\n' >"$W/parse.conf"
alice submit -c "$W/tap.conf" -p "$W/parse.conf" >"$W/submit.out" 2>&1
check "alice submits Mode tap, dualDirect" test $? -eq 0 || sed "s/^/#   /" "$W/submit.out"
check "vnd submit's table says tap" grep -qE '[| ]tap +[| ]' "$W/submit.out"
ID=$(grep -o 'd[0-9]*' "$W/submit.out" | head -1)
NRULES=$(ovs-ofctl -O OpenFlow13 dump-flows "$TB_OFCTL_HV1" | grep -c 'cookie=0x564e' || true)
check_eq "no capture rule in the switch" "$NRULES" 0
check_eq "two packet sockets on $DEV (ids_in, ids_in_rev) beside the switch's" "$(sockets)" $((S0 + 2))
VND_ADMIN_SECRET_FILE=$VND_ADMIN_SECRET_FILE "$VND" admin policy "$ID" >"$W/policy.txt" 2>&1
sed 's/^/# /' "$W/policy.txt" | head -12
check "the policy view: no rule, the interface read, the kernel's filter" \
    grep -qF "Mode tap: no capture rule; the table server reads the interface of port 3, what it sends that matches eth.dst = 02:00:00:a1:00:01 and ip.proto = 6 (kernel filter: (ether dst 02:00:00:a1:00:01 and (ip proto 6 or ip6))" "$W/policy.txt"

# what the switch sends on the port, as its interface counts it
txc() { echo $(($(cat "/sys/class/net/$DEV/statistics/tx_$1"))); }
P0=$(txc packets) B0=$(txc bytes)
iperf3_server "$TB_ALICE_SERVER"; SRV=$IPERF_SRV
iperf3_server "$TB_BOB_SERVER" 5202
ip netns exec "$TB_BOB_CLIENT" timeout 30 iperf3 -c 10.0.2.2 -p 5202 -n 2M >/dev/null 2>&1 &
ip netns exec "$TB_ALICE_CLIENT" timeout 30 iperf3 -c 10.0.2.2 -n 8M -J >"$W/iperf.json" 2>&1
check "iperf3 alice client -> server through the ids (8 MB)" test $? -eq 0
wait
sleep 1.5     # one commit
P1=$(txc packets) B1=$(txc bytes)
alice query --diagnosis "$ID" -f csv "select count(*), sum(len), sum(dst_port = 5202 or src_port = 5202), count(distinct src_ip), sum(case when dst_port = 5201 then payload_len else 0 end) from ids_in" >"$W/q.csv" 2>&1
IFS=, read -r ROWS BYTES BOBS NSRC PAY < <(tail -n +2 "$W/q.csv" | head -1)
echo "# ids_in: $ROWS frames, $BYTES bytes ($PAY of payload to :5201); the interface sent $((P1 - P0)) frames, $((B1 - B0)) bytes; iperf3 sent $(jq '.end.sum_sent.bytes' "$W/iperf.json"), its server received $(jq '.end.sum_received.bytes' "$W/iperf.json")"
check "every TCP frame the switch sent to the ids is in ids_in (the interface's count, less a few ARP)" \
    awk -v r="${ROWS:-0}" -v p=$((P1 - P0)) 'BEGIN { exit !(r > 1000 && r <= p && r >= p - 10) }'
check "... and every byte of them" \
    awk -v r="${BYTES:-0}" -v p=$((B1 - B0)) 'BEGIN { exit !(r > 0 && r <= p && r >= p - 10 * 64) }'
# every byte iperf3's server received crossed the ids input first (iperf3
# may end before all it sent arrived; retransmits add to what crossed)
RCVD=$(jq '.end.sum_received.bytes' "$W/iperf.json")
check "the payload to iperf3's port is at least what its server received ($RCVD)" \
    awk -v a="${PAY:-0}" -v r="${RCVD:-0}" 'BEGIN { exit !(r > 1000000 && a >= r) }'
check_eq "from alice's client only" "$NSRC" 1
alice query --diagnosis "$ID" -f csv "select count(*), sum(src_port = 5201) from ids_in_rev" >"$W/rev.csv" 2>&1
IFS=, read -r NREV FROMSRV < <(tail -n +2 "$W/rev.csv" | head -1)
check "ids_in_rev: the server's side of the connection ($NREV packets)" \
    test "${NREV:-0}" -gt 0 -a "${FROMSRV:-0}" -gt 0
alice query --diagnosis "$ID" -f csv "select count(*) from ids_in where src_port = 5202 or dst_port = 5202" >"$W/bob.csv" 2>&1
check_eq "none of bob's packets in alice's tables" "$(tail -1 "$W/bob.csv")" 0
alice query --diagnosis "$ID" -f csv "select source, sampling, dropped_kernel + dropped_queue from vnd_meta where tbl = 'ids_in'" >"$W/meta.csv" 2>&1
check_eq "vnd_meta: a tap, every packet, none dropped" "$(tail -1 "$W/meta.csv")" "vnd-tabled tap,1,0"
alice diag throughput --diagnosis "$ID" -t ids_in -f json >"$W/tp.json" 2>&1
check "the throughput app says how the rows were obtained: tap" grep -q '"mode": *"tap"' "$W/tp.json" \
    || sed 's/^/#   /' "$W/tp.json" | head -5

alice stop "$ID" >/dev/null 2>&1
check "alice stops it" test $? -eq 0
for _ in $(seq 30); do [ "$(sockets)" -eq "$S0" ] && break; sleep 0.1; done
check_eq "its packet sockets are closed" "$(sockets)" "$S0"
done_testing
