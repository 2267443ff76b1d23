#!/usr/bin/env bash
# flow_sampling.sh — Mode mirror with Flow Sampling on the OVS test bed
# (`vnd testbed up`), end to end through the control server:
#   - alice's `Flow Sampling 4, dualDirect=True` on her ids input: the
#     control server installs a select group per trace (dp_hash, symmetric
#     L4, 64 of 256 hash values copy) and rules that go through it;
#   - 40 parallel iperf3 streams (41 connections with iperf3's control
#     connection) through the ids: about a quarter of the connections are
#     captured; every captured connection is whole (its SYN and SYN-ACK,
#     every payload byte the server received, counted once however often
#     it was sent) and in both directions; vnd_meta says flow_sampling 4;
#   - the operator's policy view shows the group; a group deleted by hand
#     (OVS then deletes its rule too) comes back on reconcile, an orphan
#     VND group goes; stopping the diagnosis removes its groups.
# Skips without root or when OVS cannot start.
source "$(dirname "$0")/../lib.sh"
VND=${VND:-$VND_BUILD/vnd}
BIN=$(cd "$(dirname "$VND")" && pwd)
export VND_TABLED=${VND_TABLED:-$BIN/vnd-tabled} VND_CONTROLD=${VND_CONTROLD:-$BIN/vnd-controld}
W=$(mktemp -d /tmp/vnd-flowsamp.XXXXXX)
BED=$W/bed
cleanup() {
    [ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
    rm -rf "$W"
}
if [ "$(id -u)" -ne 0 ]; then skip "flow sampling: needs root"; done_testing; exit 0; fi
for t in ovs-vswitchd iperf3 jq curl sqlite3; do
    command -v $t >/dev/null || { skip "flow sampling: $t is not installed"; done_testing; exit 0; }
done
bed_lock || { not_ok "the OVS bed lock was not free in 600 s"; done_testing; exit 1; }
trap cleanup EXIT
if ! "$VND" testbed up --dir "$BED" --delay 1 --loss 0 --port-base 7600 >"$W/up.log" 2>&1 9>&-; then
    not_ok "vnd testbed up"; sed 's/^/#   /' "$W/up.log"; done_testing; exit 1
fi
ok "vnd testbed up"
source "$BED/env"
export VND_URL
alice() { VND_TOKEN=$VND_TOKEN_ALICE "$VND" "$@"; }
groups() { ovs-ofctl -O OpenFlow15 dump-groups "$TB_OFCTL_HV1" | grep -o 'group_id=1447952[0-9]*.*' ; }
flows() { ovs-ofctl -O OpenFlow15 dump-flows "$TB_OFCTL_HV1" | grep 'cookie=0x564e' ; }
admin_api() {  # METHOD PATH: the operator's call, its status in CODE
    CODE=$(curl -s --max-time 30 -X "$1" -H "Authorization: Bearer $(cat "$VND_ADMIN_SECRET_FILE")" \
        -o "$W/admin.body" -w '%{http_code}' "$VND_URL$2")
}

printf 'Appliance Node : ids\nCap input\nproto=TCP\ndualDirect=True\nFlow Sampling 4\n' >"$W/fs.conf"
alice submit -c "$W/fs.conf" >"$W/submit.out" 2>&1
check "alice submits Mode mirror, Flow Sampling 4, dualDirect" test $? -eq 0 || sed "s/^/#   /" "$W/submit.out"
ID=$(grep -o 'd[0-9]*' "$W/submit.out" | head -1)
groups >"$W/groups" 2>&1
sed 's/^/# /' "$W/groups"
check_eq "one select group per trace (ids_in, ids_in_rev)" "$(grep -c 'type=select' "$W/groups")" 2
check "dp_hash with the symmetric L4 hash (algorithm 1 in the upper 32 bits: 4294967296)" \
    grep -q 'selection_method=dp_hash,selection_method_param=4294967296,' "$W/groups"
check "64 of 256 hash values copy, tagged to the mirror port" \
    grep -q 'bucket=bucket_id:0,weight:64,actions=push_vlan:0x8100,set_field:[0-9]*->vlan_vid,output:9' "$W/groups"
flows >"$W/flows"
check_eq "both capture rules go through their group" "$(grep -c 'actions=group:1447952' "$W/flows")" 2
VND_ADMIN_SECRET_FILE=$VND_ADMIN_SECRET_FILE "$VND" admin policy "$ID" >"$W/policy.txt" 2>&1
check "the policy view shows the flow sampling and its group" \
    sh -c "grep -q 'Flow sampling 1 flow in 4: 64 of 256 hash values copy (1 in 4)' '$W/policy.txt' && grep -q '^Group group_id=' '$W/policy.txt'"

# Copies the host loses between the switch and the table server (the
# mirror veth's drops, OVS's on sending to it): on a loaded machine they are
# not the switch's doing, and a stream short of bytes is then not a fault
# of flow sampling.
host_drops() {
    local n=0 f
    for f in /sys/class/net/{"$TB_MIRROR_HV1","vnd${TB_ID}mir1"}/statistics/{rx,tx}_dropped; do
        [ -r "$f" ] && n=$((n + $(cat "$f")))
    done
    local o; o=$(ovs-vsctl --db="$TB_OVSDB" get interface "vnd${TB_ID}mir1" statistics:tx_dropped 2>/dev/null | tr -d '"')
    echo $((n + ${o:-0}))
}
DROPS0=$(host_drops)
# 40 streams (and iperf3's control connection) through the ids
iperf3_server "$TB_ALICE_SERVER"; SRV=$IPERF_SRV
ip netns exec "$TB_ALICE_CLIENT" timeout 60 iperf3 -c 10.0.2.2 -P 40 -t 3 -b 1M -J >"$W/iperf.json" 2>&1
check "iperf3 -P 40 alice client -> server through the ids" test $? -eq 0
wait "$SRV" 2>/dev/null
# the table server commits every 0.5 s; on a busy machine its queue may lag:
# wait until two looks 1 s apart see the same rows
PREV=
for _ in $(seq 20); do
    sleep 1
    NOW=$(alice query --diagnosis "$ID" -f csv "select (select count(*) from ids_in), (select count(*) from ids_in_rev)" 2>/dev/null | tail -1)
    [ -n "$NOW" ] && [ "$NOW" = "$PREV" ] && break
    PREV=$NOW
done
alice query --diagnosis "$ID" -f csv "select trace, packets_seen, packets_stored, dropped_queue, dropped_kernel from vnd_meta" 2>&1 | sed 's/^/# counters: /'
# per connection (client port): packets, payload bytes, SYN and FIN, both ways
Q="select c.port, c.n, c.bytes, c.syn, c.fin, coalesce(r.n, 0), coalesce(r.synack, 0) from
     (select src_port as port, count(*) n, sum(payload_len) bytes, sum((flags & 2) != 0) syn,
             sum((flags & 5) != 0) fin from ids_in group by src_port) c
     left join (select dst_port as port, count(*) n, sum((flags & 18) = 18) synack
                from ids_in_rev group by dst_port) r
     on r.port = c.port
   union all
   select r.port, 0, 0, 0, 0, r.n, 0 from (select dst_port as port, count(*) n from ids_in_rev
     group by dst_port) r where r.port not in (select src_port from ids_in)"
alice query --diagnosis "$ID" -f csv "$Q" >"$W/conns.csv" 2>&1
check "alice queries her traces" test $? -eq 0 || sed 's/^/#   /' "$W/conns.csv"
tail -n +2 "$W/conns.csv" >"$W/conns"
# what iperf3 sent per client port (the control connection has no stream)
jq -r '.start.connected[] | "\(.socket) \(.local_port)"' "$W/iperf.json" | sort >"$W/sock_port"
jq -r '.end.streams[] | "\(.receiver.socket) \(.receiver.bytes)"' "$W/iperf.json" | sort >"$W/sock_bytes"
join "$W/sock_port" "$W/sock_bytes" | awk '{ print $2, $3 }' >"$W/port_bytes"
NSTREAMS=$(wc -l <"$W/port_bytes")
NCONN=$(wc -l <"$W/conns")
echo "# $NSTREAMS iperf3 streams (+1 control connection); captured connections: $NCONN"
sed 's/^/# port,packets,bytes,syn,fin,reverse packets,synack: /' "$W/conns"
check_eq "iperf3 ran 40 streams" "$NSTREAMS" 40
# 41 connections, 1 in 4: 10.25 expected, sd 2.8; 3..20 is 2.6 sd below to 3.5 above
check "about a quarter of the connections captured ($NCONN of 41, expected 10)" \
    test "$NCONN" -ge 3 -a "$NCONN" -le 20
check "every captured connection in both directions" \
    awk -F, '$2 == 0 || $6 == 0 { bad++ } END { exit bad > 0 }' "$W/conns"
check "every captured connection from its start: its SYN and the SYN-ACK" \
    awk -F, '$4 < 1 || $7 < 1 { bad++ } END { exit bad > 0 }' "$W/conns"
echo "# captured connections with their FIN or RST seen: $(awk -F, '$5 > 0' "$W/conns" | wc -l) of $NCONN"
# The payload bytes of each captured stream, each byte once: the union of
# its segments' sequence ranges, from the SYN's sequence number (mod 2^32).
# A retransmission adds nothing; summing payload_len counted it again, and
# under load a stream resent a fifth of its bytes (seen in CI).
COVERED="with d as (select src_port as port, seq, payload_len as len, flags from ids_in),
  isn as (select port, min(seq) as isn from d where flags & 2 group by port),
  r as (select d.port, (d.seq - isn.isn + 4294967296) % 4294967296 as s, d.len
        from d join isn on isn.port = d.port where d.len > 0),
  w as (select port, s, s + len as e, max(s + len) over (partition by port order by s, len
        rows between unbounded preceding and 1 preceding) as pe from r)
  select port, sum(max(0, e - max(s, coalesce(pe, s)))) from w group by port"
alice query --diagnosis "$ID" -f csv "$COVERED" 2>&1 | tail -n +2 >"$W/covered"
# iperf3's cookie (37 bytes) opens each stream and is not in its count:
# every stream was seen to cover exactly its count + 37
awk -F, 'NR == FNR { sent[$1] = $2; next } ($1 in sent) { n++; if ($2 != sent[$1] + 37) bad++ }
         END { print n + 0, bad + 0 }' <(tr ' ' , <"$W/port_bytes") "$W/covered" >"$W/whole"
read -r NSTREAM_CAP BAD <"$W/whole"
echo "# each captured stream's bytes (each once) less what the server received: $(awk -F, \
    'NR == FNR { sent[$1] = $2; next } ($1 in sent) { print $2 - sent[$1] }' \
    <(tr ' ' , <"$W/port_bytes") "$W/covered" | sort -n | uniq -c | awk '{ printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2 }')"
awk -F, 'NR == FNR { sent[$1] = $2; next } ($1 in sent) && $2 != sent[$1] + 37 {
         print "# off: port " $1 ": " $2 " bytes captured (each once), " sent[$1] " received" }' \
    <(tr ' ' , <"$W/port_bytes") "$W/covered"
# and what the table server's capture socket dropped (libpcap's count, in
# vnd_meta: the interface's, while the traces existed)
TSDROPS=$(alice query --diagnosis "$ID" -f csv \
    "select coalesce(max(dropped_kernel), 0) + coalesce(max(dropped_queue), 0) from vnd_meta" 2>/dev/null | tail -1)
DROPS=$(( $(host_drops) - DROPS0 + ${TSDROPS:-0} ))
echo "# captured streams: $NSTREAM_CAP, off from what the server received: $BAD; copies the host dropped before the table server: $DROPS"
if [ "$BAD" -gt 0 ] && [ "$DROPS" -gt 0 ]; then
    skip "each captured stream has every byte: the host dropped $DROPS copies on the mirror port (a loaded machine), not the switch"
else
    check "each captured stream has every byte the server received, and no other ($NSTREAM_CAP streams)" \
        test "$NSTREAM_CAP" -ge 2 -a "$BAD" -eq 0
fi
alice query --diagnosis "$ID" -f csv "select trace, flow_sampling, sampling from vnd_meta order by trace" >"$W/meta.csv" 2>&1
sed 's/^/# /' "$W/meta.csv"
check_eq "vnd_meta says flow 1 in 4 for both traces" "$(grep -c ',4.0,1$\|,4,1$' "$W/meta.csv")" 2

# reconcile: a group deleted by hand (OVS deletes its rule with it) comes back
G=$(grep -o 'group_id=[0-9]*' "$W/groups" | head -1 | cut -d= -f2)
ovs-ofctl -O OpenFlow15 del-groups "$TB_OFCTL_HV1" "group_id=$G"
check_eq "a group deleted by hand takes its rule with it" "$(flows | grep -c 'actions=group:')" 1
admin_api POST /v1/admin/reconcile
check_eq "POST /v1/admin/reconcile" "$CODE" 200
check "the group is back after reconcile" sh -c "ovs-ofctl -O OpenFlow15 dump-groups '$TB_OFCTL_HV1' | grep -q 'group_id=$G,'"
check_eq "... and its rule" "$(flows | grep -c 'actions=group:')" 2
# an orphan VND group (tag 4000, no trace) goes
ovs-ofctl -O OpenFlow15 add-group "$TB_OFCTL_HV1" "group_id=$((0x564e0000 + 4000)),type=select,bucket=actions=drop"
admin_api POST /v1/admin/reconcile
check "an orphan VND group is removed on reconcile" sh -c "! ovs-ofctl -O OpenFlow15 dump-groups '$TB_OFCTL_HV1' | grep -q 'group_id=$((0x564e0000 + 4000)),'"
check "the control server's log says so" grep -q "removed orphan group $((0x564e0000 + 4000))" "$BED/controld.log"

alice stop "$ID" >/dev/null 2>&1
check_eq "stopping the diagnosis removes its groups" "$(groups | grep -c 'type=select')" 0
check_eq "... and its rules" "$(flows | grep -c .)" 0
done_testing
