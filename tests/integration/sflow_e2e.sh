#!/usr/bin/env bash
# sflow_e2e.sh — Mode sflow and Mode mirror with Snaplen on the OVS test
# bed (`vnd testbed up`), end to end through the control server:
#   - alice's `Mode sflow, Sampling 10` on her ids input: the control
#     server configures OVS's own sFlow agent on the bridge (ovs-vsctl list
#     sflow), installs no capture rule, the table server keys the samples
#     to her trace by her port's ifIndex; iperf3 through the ids: the
#     sampled bytes x 10 estimate iperf3's rate within 10%, and so does
#     the throughput app, with iperf3's bytes inside twice its 95%
#     interval; no sample of bob's identical addresses reaches her
#     table; the sflow_counters
#     table fills from the agent's interface counters; stopping clears the
#     bridge's sFlow;
#     the operator's policy view shows the agent's settings; the agent
#     removed by hand (while the control server is down, and while it
#     runs) or changed comes back on reconcile; a leftover agent sending
#     to the table server goes, one sending elsewhere stays;
#   - `Mode mirror, Snaplen 100`: the rule outputs with max_len and every
#     stored packet's captured length is at most 100.
# Skips without root or when OVS cannot start.
source "$(dirname "$0")/../lib.sh"
VND=${VND:-$VND_BUILD/vnd}
BIN=$(cd "$(dirname "$VND")" && pwd)
export VND_TABLED=${VND_TABLED:-$BIN/vnd-tabled} VND_CONTROLD=${VND_CONTROLD:-$BIN/vnd-controld}
W=$(mktemp -d /tmp/vnd-sflow.XXXXXX)
BED=$W/bed
cleanup() {
    [ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
    rm -rf "$W"
}
if [ "$(id -u)" -ne 0 ]; then skip "sflow end to end: needs root"; done_testing; exit 0; fi
for t in ovs-vswitchd iperf3 jq curl; do
    command -v $t >/dev/null || { skip "sflow end to end: $t is not installed"; done_testing; exit 0; }
done
bed_lock || { not_ok "the OVS bed lock was not free in 600 s"; done_testing; exit 1; }
trap cleanup EXIT
if ! "$VND" testbed up --dir "$BED" --delay 1 --loss 0 --port-base 7540 >"$W/up.log" 2>&1 9>&-; then
    not_ok "vnd testbed up"; sed 's/^/#   /' "$W/up.log"; done_testing; exit 1
fi
ok "vnd testbed up"
source "$BED/env"
export VND_URL
alice() { VND_TOKEN=$VND_TOKEN_ALICE "$VND" "$@"; }
bob() { VND_TOKEN=$VND_TOKEN_BOB "$VND" "$@"; }
vsctl() { ovs-vsctl --db="$TB_OVSDB" "$@"; }

printf 'Appliance Node : ids\nCap input\nproto=TCP\nMode sflow\nSampling 10\nPolling 2\n' >"$W/sflow.conf"
alice submit -c "$W/sflow.conf" >"$W/submit.out" 2>&1
check "alice submits Mode sflow, Sampling 10, Polling 2" test $? -eq 0 || sed "s/^/#   /" "$W/submit.out"
check "vnd submit's table says how the point is captured: sflow, 1 in 10" \
    grep -qE '[| ]sflow +[| ]? *10 ' "$W/submit.out"
ID=$(grep -o 'd[0-9]*' "$W/submit.out" | head -1)
check "OVS's sFlow agent is on the bridge, 1 in 10, its counters every 2 s" \
    sh -c "ovs-vsctl --db='$TB_OVSDB' --columns=sampling,header,polling,targets list sflow | tee '$W/sflow.list' | grep -q 'sampling *: 10' && grep -q 'polling *: 2\$' '$W/sflow.list'"
sed 's/^/# /' "$W/sflow.list"
TARGET=$(ovs-vsctl --db="$TB_OVSDB" get sflow "$(ovs-vsctl --db="$TB_OVSDB" get bridge "$TB_BRIDGE_HV1" sflow)" targets | grep -o '[0-9.]*:[0-9]*' | head -1)
echo "# the table server's sFlow collector: ${TARGET:-none}"

# The operator's view: the bridge's agent, not a mirror rule
VND_ADMIN_SECRET_FILE=$VND_ADMIN_SECRET_FILE "$VND" admin policy "$ID" >"$W/policy.txt" 2>&1
sed 's/^/# /' "$W/policy.txt"
check "the policy view shows the sFlow agent (bridge, sampling, header, polling, target)" \
    grep -qF "sFlow agent hv1/$TB_BRIDGE_HV1: sampling 1 in 10, header 128 bytes, polling 2 s, target $TARGET" "$W/policy.txt"
check "... and the port and pattern the table server keeps" \
    grep -qF "no capture rule; the table server keeps the samples of port 3 that match: eth.dst = 02:00:00:a1:00:01 and ip.proto = 6, 1 in 10" "$W/policy.txt"
check "... and no mirror rule" sh -c "! grep -qE '^Rule |mirror port' '$W/policy.txt'"

# Restart of the control server; the bridge's sFlow removed while it is down
sflow_of() { ovs-vsctl --db="$TB_OVSDB" --columns=sflow --bare list bridge "$TB_BRIDGE_HV1" | tr -d ' \n'; }
agent_is() {   # SAMPLING: the bridge's agent samples 1 in SAMPLING and sends to TARGET
    local u; u=$(sflow_of); [ -n "$u" ] || return 1
    [ "$(vsctl get sflow "$u" sampling)" = "$1" ] && vsctl get sflow "$u" targets | grep -qF "\"$TARGET\""
}
admin_api() {  # METHOD PATH: the operator's call, its status in CODE
    CODE=$(curl -s --max-time 30 -X "$1" -H "Authorization: Bearer $(cat "$VND_ADMIN_SECRET_FILE")" \
        -o "$W/admin.body" -w '%{http_code}' "$VND_URL$2")
}
OLD=$(awk '$1 == "pid" && $2 == "controld" { print $3 }' "$BED/state")
kill "$OLD"
for _ in $(seq 50); do kill -0 "$OLD" 2>/dev/null || break; sleep 0.1; done
vsctl clear bridge "$TB_BRIDGE_HV1" sflow
check "the bridge's sFlow removed by hand while the control server is down" test -z "$(sflow_of)"
# not a child of this shell (the `wait`s below wait for iperf3 only)
( ( exec setsid "$VND_CONTROLD" --nib "$BED/nib.json" --state "$BED/controld.db" --listen "${VND_URL#http://}" \
      --admin-secret-file "$BED/admin.secret" --log-file "$BED/controld.log" \
      </dev/null >>"$BED/controld.stderr" 2>&1 9>&- ) & echo "pid controld2 $!" >>"$BED/state" )
for _ in $(seq 100); do curl -s -o /dev/null -H "Authorization: Bearer $VND_TOKEN_ALICE" "$VND_URL/v1/diagnoses" && break; sleep 0.1; done
check "after the restart the sFlow agent is back, 1 in 10 to the table server (reconcile at start)" agent_is 10
check "the control server's log says so" grep -q "sFlow agent of $TB_BRIDGE_HV1 was gone; set it again" "$BED/controld.log"
# ... and removed again while it runs: POST /v1/admin/reconcile puts it back
vsctl clear bridge "$TB_BRIDGE_HV1" sflow
admin_api POST /v1/admin/reconcile
check_eq "POST /v1/admin/reconcile" "$CODE" 200
check "the sFlow agent removed by hand is back after reconcile" agent_is 10
# ... and set to another rate by hand: reconcile sets the diagnosis's again
vsctl -- --id=@s create sflow "targets=\"$TARGET\"" sampling=1000 header=64 polling=30 -- set bridge "$TB_BRIDGE_HV1" sflow=@s >/dev/null
admin_api POST /v1/admin/reconcile
check "an agent changed by hand (1 in 1000) is set back to 1 in 10" agent_is 10

NRULES=$(ovs-ofctl -O OpenFlow13 dump-flows "$TB_OFCTL_HV1" | grep -c 'cookie=0x564e' || true)
NRULES2=$(ovs-ofctl -O OpenFlow13 dump-flows "$TB_OFCTL_HV2" | grep -c 'cookie=0x564e' || true)
check "no capture rule for an sflow trace" test $((NRULES + NRULES2)) -eq 0

# bob's traffic (same addresses) and alice's, at the same time
iperf3_server "$TB_ALICE_SERVER"
iperf3_server "$TB_BOB_SERVER" 5202
ip netns exec "$TB_BOB_CLIENT" timeout 30 iperf3 -c 10.0.2.2 -p 5202 -t 4 -b 20M >/dev/null 2>&1 &
ip netns exec "$TB_ALICE_CLIENT" timeout 30 iperf3 -c 10.0.2.2 -t 4 -b 40M -J >"$W/iperf.json" 2>&1
check "iperf3 alice client -> server through the ids" test $? -eq 0
wait
IPERF_BYTES=$(jq '.end.sum_sent.bytes' "$W/iperf.json")
sleep 3    # OVS sends a datagram when full or each second; one commit more
alice query --diagnosis "$ID" -f csv "select count(*), coalesce(sum(payload_len),0), sum(dst_port = 5202) from ids_in" >"$W/q.csv" 2>&1
check "alice queries her sflow trace" test $? -eq 0
IFS=, read -r NS BYTES BOBS < <(tail -n +2 "$W/q.csv" | head -1)
EST=$((BYTES * 10))
echo "# samples: $NS, sampled payload bytes: $BYTES (x10 = $EST), iperf3 sent: $IPERF_BYTES"
check "samples arrived ($NS)" test "${NS:-0}" -gt 50
check "1-in-10 estimate of the bytes within 10% of iperf3's" \
    awk -v a="$EST" -v b="$IPERF_BYTES" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; exit !(b > 0 && d <= 0.10) }'
check "none of bob's packets (port 5202) in alice's table" test "${BOBS:-1}" = 0
# what the tenant's throughput app says: the rows scaled by 10, each
# slot's 95% interval (the total's from the slots', independent)
alice diag throughput --diagnosis "$ID" -t ids_in --where 'tcp.dst = 5201' -f csv >"$W/thr.csv" 2>&1
check "alice's throughput over her sFlow samples" test $? -eq 0 || sed 's/^/#   /' "$W/thr.csv"
read -r TEST THW < <(throughput_total "$W/thr.csv")
echo "# throughput app: $TEST payload bytes +- $THW (95%), iperf3 sent $IPERF_BYTES"
check "the app's estimate is within 10% of iperf3's bytes" \
    awk -v a="${TEST:-0}" -v b="$IPERF_BYTES" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; exit !(b > 0 && d <= 0.10) }'
check "and iperf3's bytes within twice its 95% interval's half-width ($THW)" \
    awk -v a="${TEST:-0}" -v b="$IPERF_BYTES" -v h="${THW:-0}" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(h > 0 && d <= 2 * h) }'
# groups of the same samples (the data direction): scaled as throughput,
# the bytes' interval from the sampled packets
alice diag groups --diagnosis "$ID" -t ids_in --where 'tcp.dst = 5201' --fields dst_port -f csv >"$W/grp.csv" 2>&1
check "groups of sFlow samples: scaled, with intervals" \
    grep -q '^dst_port,packets,bytes,packets_low,packets_high,bytes_low,bytes_high$' "$W/grp.csv"
IFS=, read -r _ _ GB _ _ GLO GHI < <(grep -v '^#' "$W/grp.csv" | sed -n 2p)
echo "# groups: ${GB:-?} payload bytes in [${GLO:-?}, ${GHI:-?}], iperf3 sent $IPERF_BYTES"
check "groups: iperf3's bytes within twice the interval's half-width" \
    awk -v e="${GB:-0}" -v b="$IPERF_BYTES" -v h="${GHI:-0}" 'BEGIN { d = e - b; if (d < 0) d = -d; exit !(h > e && d <= 2 * (h - e)) }'
# Two datagrams the collector cannot read: counted in vnd_meta, nothing lost
if [ -n "$TARGET" ]; then
    printf 'not an sFlow datagram' >"$W/bad1"
    printf '\0\0\0\5\0\0\0\1' >"$W/bad2"   # v5, cut short
    for f in "$W/bad1" "$W/bad2"; do   # cat: one write, one datagram
        cat "$f" >"/dev/udp/${TARGET%:*}/${TARGET##*:}"
    done
fi
sleep 1.5
alice query --diagnosis "$ID" -f csv "select sampling, source, malformed from vnd_meta" >"$W/meta.csv" 2>&1
check "vnd_meta says sampling 10 and sflow" grep -q '^10,vnd-tabled sflow' "$W/meta.csv"
check "vnd_meta counts the 2 malformed datagrams the collector got" grep -q '^10,vnd-tabled sflow,2$' "$W/meta.csv" \
    || sed 's/^/#   /' "$W/meta.csv"
check_eq "the rows stored before them are all still there" \
    "$(alice query --diagnosis "$ID" -f csv "select count(*) >= $NS from ids_in" | tail -1)" 1
sleep 6
alice query --diagnosis "$ID" -f csv "select count(*), max(in_octets) > 0 from sflow_counters" >"$W/cnt.csv" 2>&1
check "the sflow_counters table fills from the interface counters" \
    sh -c "tail -n +2 '$W/cnt.csv' | grep -q '^[1-9][0-9]*,1'"
sed 's/^/# /' "$W/cnt.csv"
GAP=$(alice query --diagnosis "$ID" -f csv "select round(avg(d), 2) from (select ts - lag(ts) over (order by ts) as d from sflow_counters) where d is not null" 2>&1 | tail -1)
echo "# the agent's counter samples of the port: ${GAP:-?} s apart on average"
check "... every 2 s, as Polling asked (${GAP:-?} s apart)" \
    awk -v g="$GAP" 'BEGIN { exit !(g >= 1.5 && g <= 3) }'
alice stop "$ID" >/dev/null 2>&1
check "stopping the last sflow trace clears the bridge's sFlow" \
    sh -c "test -z \"\$(ovs-vsctl --db='$TB_OVSDB' --columns=sflow --bare list bridge | tr -d ' \n')\""
# an agent left sending to the table server with no sFlow trace live goes
# on reconcile; one sending elsewhere (the operator's own) stays
vsctl -- --id=@s create sflow "targets=\"$TARGET\"" sampling=10 -- set bridge "$TB_BRIDGE_HV1" sflow=@s >/dev/null
admin_api POST /v1/admin/reconcile
check "a leftover agent sending to the table server is removed on reconcile" test -z "$(sflow_of)"
vsctl -- --id=@s create sflow 'targets="127.0.0.1:9"' sampling=100 -- set bridge "$TB_BRIDGE_HV1" sflow=@s >/dev/null
admin_api POST /v1/admin/reconcile
check "an agent sending elsewhere is left alone" test -n "$(sflow_of)"
vsctl clear bridge "$TB_BRIDGE_HV1" sflow

# Mode mirror with Snaplen: cut in the switch
printf 'Appliance Node : ids\nCap input\nproto=TCP\nSnaplen 100\n' >"$W/snap.conf"
alice submit -c "$W/snap.conf" >"$W/submit2.out" 2>&1
check "alice submits Mode mirror, Snaplen 100" test $? -eq 0
ID2=$(grep -o 'd[0-9]*' "$W/submit2.out" | head -1)
ovs-ofctl -O OpenFlow13 dump-flows "$TB_OFCTL_HV1" >"$W/flows" 2>&1; ovs-ofctl -O OpenFlow13 dump-flows "$TB_OFCTL_HV2" >>"$W/flows" 2>&1
check "output(port=...,max_len=100) in the capture rule" grep -q 'max_len=100' "$W/flows"
# what reaches the mirror port itself (the table server would cut too)
MIR=$TB_MIRROR_HV1
grep -q 'max_len=100' <(ovs-ofctl -O OpenFlow13 dump-flows "$TB_OFCTL_HV1") || MIR=$TB_MIRROR_HV2
timeout 8 tcpdump -i "$MIR" -c 200 -w "$W/mirror.pcap" >/dev/null 2>&1 9>&- &
TD=$!
sleep 1
iperf3_server "$TB_ALICE_SERVER"
ip netns exec "$TB_ALICE_CLIENT" timeout 30 iperf3 -c 10.0.2.2 -t 2 -b 20M >/dev/null 2>&1
wait $TD
tcpdump -r "$W/mirror.pcap" -nn -e 2>/dev/null | awk '{for (i = 1; i <= NF; i++) if ($i == "length") { v = $(i + 1); sub(/[:,]/, "", v); if (v + 0 > m) m = v + 0 } n++} END {print n + 0, m + 0}' >"$W/mir.txt"
read -r NP MAXLEN <"$W/mir.txt"
MAXCAP=$(python3 -c "
import struct,sys
d=open('$W/mirror.pcap','rb').read(); o=24; m=0
while o+16<=len(d):
    _,_,cl,ol=struct.unpack('<IIII',d[o:o+16]); m=max(m,cl); o+=16+cl
print(m)" 2>/dev/null)
echo "# mirror port with Snaplen 100: $NP copies, largest captured $MAXCAP bytes (tag included), largest on the wire $MAXLEN"
check "copies reach the mirror port cut by the switch to 104 bytes (the packet's 100 + the tag)" \
    sh -c "test '${NP:-0}' -gt 50 && test '${MAXCAP:-999}' -le 104 && test '${MAXCAP:-0}' -gt 60"
alice stop "$ID2" >/dev/null 2>&1
done_testing
