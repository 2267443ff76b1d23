#!/usr/bin/env bash
# ipfix_e2e.sh — Mode ipfix on the OVS test bed (`vnd testbed up`), end to
# end through the control server:
#   - alice's `Mode ipfix, Sampling 1, ActiveTimeout 1` on her ids input:
#     the control server creates the bridge's flow sample collector set
#     (Flow_Sample_Collector_Set id 22094 with an IPFIX row aimed at the
#     table server's --ipfix-listen) and a capture rule whose action is
#     sample(probability=65535, obs_point_id=TAG); iperf3 through the ids
#     while bob runs the same addresses through his own ids;
#   - the table server files OVS's flow records under her trace by their
#     observation point: the sum of their Ethernet bytes and packets
#     equals her rule's n_bytes and n_packets exactly (OVS's counters of
#     the very packets sampled 1 in 1); none of bob's records (port 5202)
#     in her table; `vnd diag throughput` spreads them over the slots,
#     every byte of them, and the data direction's are iperf3's payload
#     and headers; vnd_meta says sampling 1 and ipfix; the collector
#     counted templates and no malformed message;
#   - stopping removes the collector set;
#   - again at `Sampling 10`: throughput's estimate of the IP bytes from
#     the scaled records is within 10% of the rule's counters, and within
#     twice its 95% interval; every record carries OVS's sum of squared
#     lengths (flow.bytes_sq), which the interval's variance takes.
# Skips without root or when OVS cannot start.
source "$(dirname "$0")/../lib.sh"
VND=${VND:-$VND_BUILD/vnd}
BIN=$(cd "$(dirname "$VND")" && pwd)
export VND_TABLED=${VND_TABLED:-$BIN/vnd-tabled} VND_CONTROLD=${VND_CONTROLD:-$BIN/vnd-controld}
W=$(mktemp -d /tmp/vnd-ipfix.XXXXXX)
BED=$W/bed
cleanup() {
    [ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
    rm -rf "$W"
}
if [ "$(id -u)" -ne 0 ]; then skip "ipfix end to end: needs root"; done_testing; exit 0; fi
for t in ovs-vswitchd iperf3 jq curl; do
    command -v $t >/dev/null || { skip "ipfix end to end: $t is not installed"; done_testing; exit 0; }
done
bed_lock || { not_ok "the OVS bed lock was not free in 600 s"; done_testing; exit 1; }
trap cleanup EXIT
T0=$(date +%s)
if ! "$VND" testbed up --dir "$BED" --delay 1 --loss 0 --port-base 7560 >"$W/up.log" 2>&1 9>&-; then
    not_ok "vnd testbed up"; sed 's/^/#   /' "$W/up.log"; done_testing; exit 1
fi
ok "vnd testbed up"
source "$BED/env"
export VND_URL
alice() { VND_TOKEN=$VND_TOKEN_ALICE "$VND" "$@"; }

printf 'Appliance Node : ids\nCap input\nproto=TCP\nMode ipfix\nSampling 1\nActiveTimeout 1\nMaxFlows 1024\n' >"$W/ipfix.conf"
alice submit -c "$W/ipfix.conf" >"$W/submit.out" 2>&1
check "alice submits Mode ipfix, Sampling 1, ActiveTimeout 1" test $? -eq 0 || sed "s/^/#   /" "$W/submit.out"
check "vnd submit's table says how the point is captured: ipfix" grep -qE '[| ]ipfix +' "$W/submit.out"
ID=$(grep -o 'd[0-9]*' "$W/submit.out" | head -1)
ovs-vsctl --db="$TB_OVSDB" --columns=id,bridge,ipfix list flow_sample_collector_set >"$W/fscs" 2>&1
ovs-vsctl --db="$TB_OVSDB" --columns=targets,cache_active_timeout,cache_max_flows list ipfix >"$W/ipfix.list" 2>&1
sed 's/^/# /' "$W/fscs" "$W/ipfix.list"
check "the bridge's flow sample collector set 22094 exists" grep -q '^id *: 22094' "$W/fscs"
check "its IPFIX exporter aims at the table server, cache 1 s, 1024 flows" \
    sh -c "grep -q 'targets.*127.0.0.1:75[0-9][0-9]' '$W/ipfix.list' && grep -q 'cache_active_timeout *: 1\$' '$W/ipfix.list' && grep -q 'cache_max_flows *: 1024' '$W/ipfix.list'"
OFCTL=$TB_OFCTL_HV1
ovs-ofctl -O OpenFlow13 dump-flows "$OFCTL" | grep -q 'sample(' || OFCTL=$TB_OFCTL_HV2
ovs-ofctl -O OpenFlow13 dump-flows "$OFCTL" | grep 'sample(' >"$W/rule" 2>&1
sed 's/^/# /' "$W/rule"
check "one capture rule, sampling 1 in 1 into set 22094 (no copy to the mirror port)" \
    sh -c "test \$(wc -l <'$W/rule') -eq 1 && grep -q 'sample(probability=65535,collector_set_id=22094,obs_domain_id=22094,obs_point_id=[0-9]*)' '$W/rule' && ! grep -q 'push_vlan' '$W/rule'"

# bob's traffic (same addresses) and alice's, at the same time
iperf3_server "$TB_ALICE_SERVER"
iperf3_server "$TB_BOB_SERVER" 5202
ip netns exec "$TB_BOB_CLIENT" timeout 30 iperf3 -c 10.0.2.2 -p 5202 -t 3 -b 20M >/dev/null 2>&1 &
ip netns exec "$TB_ALICE_CLIENT" timeout 30 iperf3 -c 10.0.2.2 -t 3 -b 40M -J >"$W/iperf.json" 2>&1
check "iperf3 alice client -> server through the ids" test $? -eq 0
wait
sleep 3    # the cache exports within its 1 s; the table server commits each 0.5 s
read -r NP NB < <(ovs-ofctl -O OpenFlow13 dump-flows "$OFCTL" | grep 'sample(' \
    | sed -n 's/.*n_packets=\([0-9]*\), n_bytes=\([0-9]*\).*/\1 \2/p')
alice query --diagnosis "$ID" -f csv "select count(*), coalesce(sum(l2_bytes),0), coalesce(sum(packets),0), sum(src_port = 5202 or dst_port = 5202), coalesce(sum(bytes),0) from ids_in" >"$W/q.csv" 2>&1
check "alice queries her ipfix trace" test $? -eq 0 || sed 's/^/#   /' "$W/q.csv"
IFS=, read -r NR L2 PK BOBS IPB < <(tail -n +2 "$W/q.csv" | head -1)
echo "# flow records: $NR; their packets $PK, Ethernet bytes $L2 (IP bytes $IPB); the rule's n_packets $NP, n_bytes $NB"
check "flow records arrived ($NR)" test "${NR:-0}" -gt 0
check "the records' Ethernet bytes equal the rule's n_bytes ($L2 = $NB)" test "${L2:-x}" = "${NB:-y}"
check "the records' packets equal the rule's n_packets ($PK = $NP)" test "${PK:-x}" = "${NP:-y}"
check "none of bob's records (port 5202) in alice's table" test "${BOBS:-1}" = 0
# throughput over the records: every byte in some slot, and the data
# direction's IP bytes iperf3's payload plus its headers (52 a segment of
# at most 1448: 3.6%, more for shorter ones)
alice diag throughput --diagnosis "$ID" -t ids_in -f csv >"$W/thr.csv" 2>&1
check "alice's throughput over her flow records" test $? -eq 0 || sed 's/^/#   /' "$W/thr.csv"
read -r SLOTB _ < <(throughput_total "$W/thr.csv")
check "the slots hold the records' IP bytes ($SLOTB of $IPB)" \
    awk -v a="${SLOTB:-0}" -v b="${IPB:--1}" 'BEGIN { exit !(a - b < 1e-6 * b && b - a < 1e-6 * b) }'
alice diag throughput --diagnosis "$ID" -t ids_in --where 'tcp.dst = 5201' -f csv >"$W/thr5201.csv" 2>&1
read -r DATAB _ < <(throughput_total "$W/thr5201.csv")
SENT=$(jq -r '.end.sum_sent.bytes // 0' "$W/iperf.json" 2>/dev/null)
sed -n '2,6p' "$W/thr5201.csv" | sed 's/^/# throughput to 5201: /'
echo "# data direction: $DATAB IP bytes in the slots, iperf3 sent $SENT bytes of payload"
check "the data direction's bytes are iperf3's payload and headers (ratio in [1.0, 1.1])" \
    awk -v a="${DATAB:-0}" -v b="${SENT:-0}" 'BEGIN { exit !(b > 0 && a >= b && a <= 1.1 * b) }'
alice query --diagnosis "$ID" -f csv "select sampling, source from vnd_meta" >"$W/meta.csv" 2>&1
check "vnd_meta says sampling 1 and ipfix" grep -q '^1,vnd-tabled ipfix' "$W/meta.csv"
SECRET=$(cat "$BED/hv1/secret" 2>/dev/null)
curl -s -H "Authorization: Bearer $SECRET" "$TB_TABLED_URL_HV1/v1/traces" >"$W/traces.json"
SECRET=$(cat "$BED/hv2/secret" 2>/dev/null)
curl -s -H "Authorization: Bearer $SECRET" "$TB_TABLED_URL_HV2/v1/traces" >>"$W/traces.json"
jq -c '.capture[]? | select(.kind == "ipfix")' "$W/traces.json" >"$W/cap.json" 2>/dev/null
sed 's/^/# /' "$W/cap.json"
check "the IPFIX collector read templates and no malformed message" \
    sh -c "jq -s -e 'any(.[]; .templates > 0) and all(.[]; (.malformed // 0) == 0)' '$W/cap.json' >/dev/null"
check "the control server keeps where hv1 collects IPFIX in its state" \
    sh -c "sqlite3 '$BED/controld.db' \"select target from collector_target where host = 'hv1' and kind = 'ipfix'\" | grep -q '^127.0.0.1:[0-9]*$'"
# A message whose length lies (version 10, length 200, 16 bytes sent): counted
# in vnd_meta, nothing stored is lost
TARGET=$(grep -o '127.0.0.1:[0-9]*' "$W/ipfix.list" | head -1)
printf '\0\12\0\310\0\0\0\0\0\0\0\0\0\0\126\116' >"$W/bad.ipfix"
[ -n "$TARGET" ] && cat "$W/bad.ipfix" >"/dev/udp/${TARGET%:*}/${TARGET##*:}"   # one write: one datagram
sleep 1.5
alice query --diagnosis "$ID" -f csv "select malformed, (select count(*) from ids_in) >= ${NR:-0} from vnd_meta" >"$W/meta2.csv" 2>&1
sed 's/^/# vnd_meta: /' "$W/meta2.csv"
check "vnd_meta counts the malformed message, the records stored before stay" grep -q '^1,1$' "$W/meta2.csv"
alice stop "$ID" >/dev/null 2>&1
check "stopping the last ipfix trace removes the collector set" \
    sh -c "test -z \"\$(ovs-vsctl --db='$TB_OVSDB' --bare --columns=_uuid list flow_sample_collector_set)\""

# 1 in 10: the switch scales the records' counts; throughput's estimate of
# the IP bytes against the rule's counters (every packet: n_bytes less 14
# Ethernet bytes a packet), within 10% and within twice its 95% interval
sed 's/^Sampling 1$/Sampling 10/' "$W/ipfix.conf" >"$W/ipfix10.conf"
alice submit -c "$W/ipfix10.conf" >"$W/submit10.out" 2>&1
check "alice submits Mode ipfix, Sampling 10" test $? -eq 0 || sed "s/^/#   /" "$W/submit10.out"
ID10=$(grep -o 'd[0-9]*' "$W/submit10.out" | head -1)
OFCTL=$TB_OFCTL_HV1
ovs-ofctl -O OpenFlow13 dump-flows "$OFCTL" | grep -q 'sample(' || OFCTL=$TB_OFCTL_HV2
iperf3_server "$TB_ALICE_SERVER"
ip netns exec "$TB_ALICE_CLIENT" timeout 30 iperf3 -c 10.0.2.2 -t 3 -b 40M >/dev/null 2>&1
sleep 3
read -r NP NB < <(ovs-ofctl -O OpenFlow13 dump-flows "$OFCTL" | grep 'sample(' \
    | sed -n 's/.*n_packets=\([0-9]*\), n_bytes=\([0-9]*\).*/\1 \2/p')
alice diag throughput --diagnosis "$ID10" -t ids_in -f csv >"$W/thr10.csv" 2>&1
check "throughput over 1-in-10 flow records" test $? -eq 0 || sed 's/^/#   /' "$W/thr10.csv"
sed -n '1,6p' "$W/thr10.csv" | sed 's/^/# 1 in 10: /'
# the estimate, and the total's 95% half-width from the slots' (independent)
read -r EST HW < <(throughput_total "$W/thr10.csv")
TRUTH=$(( ${NB:-0} - 14 * ${NP:-0} ))
echo "# 1 in 10: estimate $EST IP bytes +- $HW (95%), the rule's $TRUTH ($NP packets)"
check "the 1-in-10 estimate is within 10% of the rule's IP bytes" \
    awk -v e="${EST:-0}" -v t="$TRUTH" 'BEGIN { d = e - t; if (d < 0) d = -d; exit !(t > 0 && d <= 0.1 * t) }'
check "and within twice its 95% interval's half-width ($HW)" \
    awk -v e="${EST:-0}" -v t="$TRUTH" -v h="${HW:-0}" 'BEGIN { d = e - t; if (d < 0) d = -d; exit !(h > 0 && d <= 2 * h) }'
# groups of the records (one protocol): the same estimate of the IP bytes
# and its interval from the records' sums of squares
alice diag groups --diagnosis "$ID10" -t ids_in --fields proto -f csv >"$W/g10.csv" 2>&1
check "groups of 1-in-10 records: their columns" \
    grep -q '^proto,packets,bytes,records,packets_low,packets_high,bytes_low,bytes_high$' "$W/g10.csv"
IFS=, read -r _ _ GB _ _ _ GLO GHI < <(grep -v '^#' "$W/g10.csv" | sed -n 2p)
echo "# 1 in 10, groups: ${GB:-?} IP bytes in [${GLO:-?}, ${GHI:-?}]"
check "groups of 1-in-10 records: the bytes within twice their interval's half-width of the rule's" \
    awk -v e="${GB:-0}" -v t="$TRUTH" -v h="${GHI:-0}" 'BEGIN { d = e - t; if (d < 0) d = -d; exit !(h > e && d <= 2 * (h - e)) }'
# OVS's octetDeltaSumOfSquares (flow.bytes_sq): on every IP record, never
# below the equal-size least y^2 / p, and the variance the interval takes
alice query --diagnosis "$ID10" -f csv "select count(*), sum(bytes_sq is not null), sum(bytes_sq * (1 + 1e-9) >= 1.0 * bytes * bytes / packets), 9 * sum(bytes_sq), 9 * sum(1.0 * bytes * bytes / packets) from ids_in where packets > 0" >"$W/sq.csv" 2>&1
IFS=, read -r NREC NSQ NGE VSQ VEQ < <(sed -n 2p "$W/sq.csv")
echo "# 1 in 10: $NREC records, $NSQ with bytes_sq; half-width of the whole from them $(awk -v v="${VSQ:-0}" 'BEGIN { printf "%.0f", 1.96 * sqrt(v) }'), with equal sizes $(awk -v v="${VEQ:-0}" 'BEGIN { printf "%.0f", 1.96 * sqrt(v) }')"
check "every record carries OVS's sum of squared lengths ($NSQ of $NREC)" \
    test "${NREC:-0}" -gt 0 -a "${NSQ:-x}" = "$NREC"
check "and none below its equal-size least y^2/p ($NGE of $NREC)" test "${NGE:-x}" = "$NREC"
alice stop "$ID10" >/dev/null 2>&1
echo "# $(( $(date +%s) - T0 )) s on the bed"
done_testing
