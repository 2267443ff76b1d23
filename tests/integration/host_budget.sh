#!/usr/bin/env bash
# host_budget.sh — a host's CPU budget kept by the switch's lever, on the
# OVS test bed (`vnd testbed up --budget`), end to end:
#   - alice mirrors every flow through her ids input and has OVS's sFlow
#     agent sample 1 in 4 at its output while 32 paced iperf3 streams run; the control server reads what ovs-vswitchd and the
#     table server take together (GET /v1/admin/budget, from the table
#     server's measurements);
#   - she also mirrors every TCP flow out of her client with a parse that
#     reads the payload (payload.hash);
#   - the operator lowers hv1's budget below that (the NIB, SIGHUP): the
#     control server takes one step up each trace's levers: the ids input,
#     whose fields are all in the headers, has its copies cut to 128 bytes
#     in the switch (output max_len) and keeps every flow; the client's,
#     which needs the payload, is flow-sampled (its select group); the
#     sFlow agent samples fewer.  The copies' bytes and the table server's
#     share drop (the switch's own share need not: below), and the table
#     server records each change from the moment the switch made it
#     (vnd_sampling's from_ts, flow_sampling, snaplen, reason), which the
#     tenant sees: throughput on the cut copies is still exact, on the
#     flow-sampled ones scaled with its interval;
#   - she also has every TCP packet out of her ids sampled into IPFIX flow
#     records (Mode ipfix, Sampling 1): the same raise samples it 1 in N
#     in the switch (its rule's sample action), the table server records
#     the rate from when it changed, and the records' bytes, which the
#     switch scales by its rate, still add up to what iperf3 sent;
#   - a budget under what the switch's forwarding alone takes: the control
#     server learns, from the shares before and after its changes, the
#     part copying less does not lower, says "at floor" and stops raising
#     (rather than drive every trace to 1 flow in 256 for nothing);
#   - the budget as a tolerated drop in tenant throughput: the control
#     server estimates what the copies cost the tenants (the table
#     server's part of the share) and, that far under it, lowers the
#     levers again; given the switch's CPU per copy (NIB "copy_ns"), the
#     estimate is the larger of that and the switch's part.
# Skips without root or when OVS cannot start.
source "$(dirname "$0")/../lib.sh"
VND=${VND:-$VND_BUILD/vnd}
BIN=$(cd "$(dirname "$VND")" && pwd)
export VND_TABLED=${VND_TABLED:-$BIN/vnd-tabled} VND_CONTROLD=${VND_CONTROLD:-$BIN/vnd-controld}
W=$(mktemp -d /tmp/vnd-hostbudget.XXXXXX)
BED=$W/bed
SRV= CLI=
cleanup() {
    [ -n "$CLI" ] && kill "$CLI" 2>/dev/null
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null
    wait 2>/dev/null
    if [ -n "$HB_KEEP" ]; then   # a developer's look after the run
        ovs-ofctl -O OpenFlow15 dump-flows "$TB_OFCTL_HV1" >"$W/flows.txt" 2>&1
        ovs-ofctl -O OpenFlow15 dump-groups "$TB_OFCTL_HV1" >"$W/groups.txt" 2>&1
        ovs-ofctl -O OpenFlow15 dump-group-stats "$TB_OFCTL_HV1" >"$W/gstats.txt" 2>&1
        cp -r "$W" "$HB_KEEP"
    fi
    [ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
    rm -rf "$W"
}
if [ "$(id -u)" -ne 0 ]; then skip "host budget: needs root"; done_testing; exit 0; fi
for t in ovs-vswitchd iperf3 jq curl; do
    command -v $t >/dev/null || { skip "host budget: $t is not installed"; done_testing; exit 0; }
done
bed_lock || { not_ok "the OVS bed lock was not free in 600 s"; done_testing; exit 1; }
trap cleanup EXIT
# a budget no traffic here reaches: measured and reported, nothing changed
if ! "$VND" testbed up --dir "$BED" --delay 1 --loss 0 --port-base 7720 --budget 6400 \
        >"$W/up.log" 2>&1 9>&-; then
    not_ok "vnd testbed up --budget 6400"; sed 's/^/#   /' "$W/up.log"; done_testing; exit 1
fi
ok "vnd testbed up --budget 6400"
source "$BED/env"
export VND_URL
alice() { VND_TOKEN=$VND_TOKEN_ALICE "$VND" "$@"; }
budget() {  # the hv1 entry of GET /v1/admin/budget
    curl -s --max-time 10 -H "Authorization: Bearer $(cat "$VND_ADMIN_SECRET_FILE")" \
        "$VND_URL/v1/admin/budget" | jq -c '.hosts[] | select(.host == "hv1")'
}
# the mean shares of the next N polls (the control server polls every 5
# s): "TOTAL TABLED" in percent of a core
mean_share() {
    local n=$1 sum=0 tsum=0 got=0 last= b s ts
    for _ in $(seq $((n * 6 + 6))); do
        sleep 1
        b=$(budget)
        s=$(echo "$b" | jq -r '.share_pct // empty')
        ts=$(echo "$b" | jq -r '.tabled_share_pct // empty')
        [ -n "$s" ] && [ -n "$ts" ] && [ "$b" != "$last" ] || continue
        last=$b
        echo "# poll: $b" >&2
        sum=$(echo "$sum + $s" | bc -l); tsum=$(echo "$tsum + $ts" | bc -l); got=$((got + 1))
        [ "$got" -ge "$n" ] && break
    done
    [ "$got" -gt 0 ] && printf '%.1f %.2f\n' "$(echo "$sum / $got" | bc -l)" "$(echo "$tsum / $got" | bc -l)"
}

printf 'Appliance Node : ids\nCap input\nproto=TCP\ndualDirect=True\n' >"$W/all.conf"
alice submit -c "$W/all.conf" >"$W/submit.out" 2>&1
check "alice mirrors every TCP flow at her ids input" test $? -eq 0 || sed "s/^/#   /" "$W/submit.out"
ID=$(grep -o 'd[0-9]*' "$W/submit.out" | head -1)
printf 'Appliance Node : ids\nCap output\nproto=TCP\nMode sflow\nSampling 4\n' >"$W/sflow.conf"
alice submit -c "$W/sflow.conf" >"$W/submit2.out" 2>&1
check "... and samples 1 in 4 with sFlow at its output" test $? -eq 0 || sed "s/^/#   /" "$W/submit2.out"
SID=$(grep -o 'd[0-9]*' "$W/submit2.out" | head -1)
printf 'VM Node : client\nCap output\nproto=TCP\n' >"$W/client.conf"
printf 'Trace ID all\nFields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip,
  ip.proto as proto, tcp.src as src_port, tcp.dst as dst_port, tcp.seq as seq, tcp.ack as ack,
  tcp.flags as flags, payload.len as payload_len, payload.hash as payload_hash\n' >"$W/payload.parse"
alice submit -c "$W/client.conf" -p "$W/payload.parse" >"$W/submit3.out" 2>&1
check "... and every TCP flow out of her client, reading the payload" test $? -eq 0 || sed "s/^/#   /" "$W/submit3.out"
PID=$(grep -o 'd[0-9]*' "$W/submit3.out" | head -1)
printf 'Appliance Node : ids\nCap output\nproto=TCP\nMode ipfix\nSampling 1\nActiveTimeout 1\n' >"$W/ipfix.conf"
alice submit -c "$W/ipfix.conf" >"$W/submit4.out" 2>&1
check "... and has every TCP packet out of her ids sampled into IPFIX records" test $? -eq 0 \
    || sed "s/^/#   /" "$W/submit4.out"
XID=$(grep -o 'd[0-9]*' "$W/submit4.out" | head -1)
# the sample action's probability in 65535ths (VND's only sample rule)
ipfix_probability() {
    ovs-ofctl -O OpenFlow13 dump-flows "$TB_OFCTL_HV1" | grep -o 'sample(probability=[0-9]*' \
        | cut -d= -f2 | head -1
}
check_eq "its rule samples every packet (probability 65535 of 65535)" "$(ipfix_probability)" 65535
agent_sampling() {
    ovs-vsctl --db="$TB_OVSDB" --columns=sampling list sflow | awk '{ print $3 }' | head -1
}

# 32 streams at 1.5 Mbit/s each, long enough for both phases: enough
# flows that a flow sample of 1 in 4 holds some (3/4 to the 32nd: 0.01%
# that it holds none; 1.4% at 1 in 8; with 16 streams a run lost its
# estimate so); 64 made the start's share too far from the rest's
DUR=70
iperf3_server "$TB_ALICE_SERVER"; SRV=$IPERF_SRV
ip netns exec "$TB_ALICE_CLIENT" iperf3 -c 10.0.2.2 -P 32 -t $DUR -b 1500K -J >"$W/iperf.json" 2>&1 &
CLI=$!
T0=$(date +%s.%N)
# past the start: the switch's share while the 32 flows are set up (their
# upcalls) ran a quarter over the rest's in a CI run, which put a budget
# taken from it over what the steady streams then cost
sleep 8
read -r S1 T1S < <(mean_share 2)
echo "# ovs-vswitchd + table server with every flow copied: ${S1:-?}% of a core (table server ${T1S:-?}%)"
# hv1's table server (the bed's state: "pid tabled-hv1 PID")
TPID=$(awk '$1 == "pid" && $2 == "tabled-hv1" { print $3 }' "$BED/state")
# its threads' time on a CPU, in ns (schedstat's first field, exact where
# the clock ticks of /proc/PID/stat count 10 ms: 3% of a 4% share in 8 s)
tabled_ns() { cat /proc/"$TPID"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
# over 6 s: "BYTES/s PACKETS/s TABLED%": the copies reaching the table
# server's capture interface and the table server's share of a core,
# read directly (the polls' shares each cover a 2-s period)
copies() {
    local d=/sys/class/net/$TB_MIRROR_HV1/statistics a p t0 n0 b q t1 n1
    a=$(cat $d/rx_bytes); p=$(cat $d/rx_packets); n0=$(tabled_ns); t0=$(date +%s%N)
    sleep 6
    b=$(cat $d/rx_bytes); q=$(cat $d/rx_packets); n1=$(tabled_ns); t1=$(date +%s%N)
    echo "$(((b - a) / 6)) $(((q - p) / 6)) $(echo "100 * ($n1 - $n0) / ($t1 - $t0)" | bc -l)"
}
read -r C1 P1 TS1 < <(copies)
check "the control server measures hv1 (ovs-vswitchd and the table server)" test -n "$S1"
check "... and changes nothing under a budget of 6400%" \
    test "$(budget | jq -r .changes)" = 0
# below the share with every flow copied, above what forwarding alone takes
# (the switch's share cannot fall below it: docs/cost.md); the header-only
# traces go to the cut alone whatever the rule's k (a burst's is 2 or 3).
# The control server acts above 0.9 of the budget: 0.8 of the share puts
# that at 0.72 of it, under the swings between polls noted below.
CPID=$(awk '$1 == "pid" && $2 == "controld" { print $3 }' "$BED/state")
OLD_B=6400
lower_budget() {  # NEW: hv1's CPU budget in the NIB, read again on SIGHUP
    sed -i "0,/\"cpu_pct\": $OLD_B\b/s//\"cpu_pct\": $1/" "$TB_NIB"
    OLD_B=$1
    echo "# hv1's budget lowered to $1% of a core"
    kill -HUP "$CPID"
}
B=$(printf '%.0f' "$(echo "${S1:-10} * 0.8" | bc -l)")
[ "$B" -ge 1 ] || B=1
T1=$(date +%s.%N)
lower_budget "$B"
for i in $(seq 30); do
    sleep 1
    [ "$(budget | jq -r '.changes // 0')" -ge 1 ] && break
    # still under 0.9 of it after three polls: the share sank since S1;
    # once more, below the share the control server reads now
    if [ "$i" = 15 ]; then
        S=$(budget | jq -r '.share_pct // empty')
        echo "# no change in 15 s at $B% (the share now ${S:-?}%)"
        [ -n "$S" ] && B=$(printf '%.0f' "$(echo "$S * 0.8" | bc -l)") && [ "$B" -ge 1 ] && lower_budget "$B"
    fi
done
budget | sed 's/^/# after SIGHUP: /'
check "the budget changed the levers of hv1's traces" \
    test "$(budget | jq -r '.changes // 0')" -ge 1
grep 'budget hv1' "$BED/controld.log" | sed 's/^/# /'
check "the ids input's copies are cut to their headers first (every flow kept), the log says why" \
    grep -q "budget hv1: $ID ids_in: whole packets of every flow -> the first 128 bytes of every flow (host budget: ovs-vswitchd" \
    "$BED/controld.log"
check "... in the switch: its rule outputs max_len=128" \
    sh -c "ovs-ofctl dump-flows '$TB_OFCTL_HV1' | grep -q 'max_len=128'"
check "the client's trace, which reads the payload, is flow-sampled instead" \
    grep -q "budget hv1: $PID client_out: flow sampling 1/1 -> 1/[0-9]* (host budget: ovs-vswitchd" \
    "$BED/controld.log"
# the copies while the streams still run (iperf3 is checked to be)
sleep 1
read -r C2 P2 TS2 < <(copies)
kill -0 "$CLI" 2>/dev/null; RUNNING=$?
sleep 2
read -r S2 T2S < <(mean_share 3)
echo "# after: ${S2:-?}% of a core (budget $B%, before $S1%); the table server ${T2S:-?}% (before $T1S%)"
# The table server's work is mostly per packet: the cut copies are as many
# as before (only shorter), the client's flow-sampled ones fewer, so 0.8 to
# 0.95 of the packets (which flows the group's hash values keep varies:
# 0.87, 0.77, 0.89 and 0.95 in four runs) with 0.4 of the bytes.  The
# polls' means swing by a quarter at a 4% share (4.08%, 3.85%, 2.98% in one
# run with the same copies), so the share is read over 6 s from the table
# server's own threads, and asked to fall, and by about as much as the
# packets did at least (the cut copies cost less each: 0.73, 0.63, 0.64
# of the share in three runs here; 0.93 with 0.95 of the packets in a CI
# run, where the cut saved little per packet), within 0.05 for what two
# 6-s windows differ by.  A table server whose work did not follow its
# copies fails this about every other run.
echo "# the table server over 6 s: $(printf '%.2f' "$TS1")% of a core with $P1 copies/s, $(printf '%.2f' "$TS2")% with $P2/s"
check "the table server's share fell with its copies, about as much as their packets at least ($(printf '%.2f' "$TS1")% -> $(printf '%.2f' "$TS2")% over 6 s, packets $P1/s -> $P2/s; polls $T1S% -> ${T2S:-?}%)" \
    sh -c "[ -n '$TS2' ] && [ '$P1' -gt 0 ] && [ \$(echo '$TS2 < $TS1 && $TS2 / $TS1 <= $P2 / $P1 + 0.05' | bc -l) = 1 ]"
# What is not asserted: that the whole share got under the budget.  The
# switch's share is mostly its forwarding, swings by a tenth and more
# between polls here (31% and 43% with the same copies), and a flow-
# sampled rule costs it a second datapath pass per packet (dp_hash
# recirculation) that can outweigh the copies saved: seen both ways on
# this bed (48.7% -> 38.5%; 35% -> 44%).  docs/cost.md, "The host's budget".
echo "# the whole share against the budget: $S1% -> ${S2:-?}% (budget $B%)"
echo "# copies/s at the table server's capture: $C1 before, $C2 after"
# (the ids input's and its reverse's copies cut to 132 of ~1500 bytes,
# the client's flows sampled 1 in 2: 17 flows of one rate give 0.5 +-
# 0.12 of its bytes; together about 0.3 of the bytes before)
check "the switch copies fewer bytes ($C1/s -> $C2/s, at most 0.6 of them, the streams running)" \
    test "$RUNNING" = 0 -a $((10 * C2)) -le $((6 * C1)) -a "$C2" -gt 0
AS=$(agent_sampling)
echo "# the bridge's sFlow agent samples 1 in ${AS:-?} (asked: 4)"
check "the sFlow agent samples fewer (1 in ${AS:-?}, asked 1 in 4)" test "${AS:-4}" -gt 4
check "the control server's log names the sflow trace and its rates" \
    grep -Eq "budget hv1: $SID ids_out: sFlow sampling 1/4 -> 1/(8|16|32|64|128|256) \(host budget" "$BED/controld.log"
P=$(ipfix_probability)
echo "# the IPFIX trace's sample action: probability ${P:-?} of 65535"
check "the control server's log names the ipfix trace and its rates" \
    grep -Eq "budget hv1: $XID ids_out: IPFIX sampling 1/1 -> 1/(2|4|8|16|32|64|128|256) \(host budget" "$BED/controld.log"
check "... and its rule samples fewer in the switch (probability ${P:-?} = 65535/N, N > 1)" \
    awk -v p="$P" 'BEGIN { exit !(p > 0 && p < 65535) }'

# waits (10 s at most) until diagnosis $1's vnd_sampling holds $2 rows of
# changes (the table server writes one with the next row it keeps)
await_sampling_rows() {
    local n
    for _ in $(seq 10); do
        sleep 1
        n=$(alice query --diagnosis "$1" -f csv "select count(*) from vnd_sampling where from_ts > 0" 2>/dev/null | tail -1)
        [ "${n:-0}" -ge "$2" ] && return 0
    done
}
wait "$CLI"; CLI=
wait "$SRV"; SRV=
await_sampling_rows "$ID" 2
alice query --diagnosis "$ID" -f csv "select tbl, from_ts, sampling, flow_sampling, snaplen, reason from vnd_sampling order by tbl, from_ts" >"$W/samp.csv" 2>&1
sed 's/^/# vnd_sampling: /' "$W/samp.csv"
check "vnd_sampling records ids_in's copies cut to 128 bytes from when the switch cut them" \
    awk -F, -v t1="$T1" '$1 == "ids_in" && $2 > t1 && $2 < t1 + 60 && $4 == 1 && $5 == 128 && $6 ~ /host budget/ { f = 1 } END { exit !f }' "$W/samp.csv"
await_sampling_rows "$PID" 1
alice query --diagnosis "$PID" -f csv "select tbl, from_ts, sampling, flow_sampling, snaplen, reason from vnd_sampling order by tbl, from_ts" >"$W/psamp.csv" 2>&1
sed 's/^/# client vnd_sampling: /' "$W/psamp.csv"
check "vnd_sampling records client_out's new flow sampling from when it changed" \
    awk -F, -v t1="$T1" '$1 == "client_out" && $2 > t1 && $2 < t1 + 60 && $4 > 1 && $5 == 0 && $6 ~ /host budget/ { f = 1 } END { exit !f }' "$W/psamp.csv"
# hv1 has a select group for each flow-sampled trace (ids_in's too, whose
# rate may differ by then); bucket 0 of each is the copying one
WEIGHTS=$(ovs-ofctl -O OpenFlow15 dump-groups "$TB_OFCTL_HV1" | grep -o 'bucket_id:0,weight:[0-9]*' | cut -d: -f3 | sort -u | tr '\n' ' ')
FS=${WEIGHTS%% *}
echo "# the groups copy ${WEIGHTS:-none} of 256 hash values"
check "the switch copies by a select group now (fewer than 256 of 256 hash values)" \
    test -n "$FS" -a "${FS:-256}" -lt 256
alice query --diagnosis "$PID" -f csv "select tbl, flow_sampling from vnd_meta order by tbl" >"$W/meta.csv" 2>&1
sed 's/^/# vnd_meta: /' "$W/meta.csv"
# client_out's rate is one of the groups'
check "vnd_meta says a rate the switch applies now" \
    awk -F, -v ws="$WEIGHTS" 'BEGIN { n = split(ws, w, " ") }
        NR > 1 && $1 == "client_out" { for (i = 1; i <= n; i++) if ($2 - 256 / w[i] < 0.01 && 256 / w[i] - $2 < 0.01) f = 1 }
        END { exit !f }' "$W/meta.csv"
SENT=$(jq '.end.sum_received.bytes' "$W/iperf.json")
# the cut copies: every packet's payload length is in its headers
alice diag throughput --diagnosis "$ID" -t ids_in --slot 10 -f table >"$W/cut.txt" 2>&1
sed 's/^/# /' "$W/cut.txt"
check "throughput on the cut copies says what it read" \
    grep -q "at times the first 128 bytes of each packet; it varied over" "$W/cut.txt"
# The cut copies count every byte: a data segment's payload length comes
# from its IP header (a copy of 128 bytes holds some 60 of it), so the mean
# payload of ids_in's data segments while cut is the whole copies' (a
# mean per segment: iperf3's pacing catches up after a stall, which moves
# a window's rate by some percent under load, never a segment's size).
# The rates too, looser for that reason.  From 2 s after the start, up to
# the cut, and while cut up to the next change.
read -r BEFORE CUTRATE SEG_WHOLE SEG_CUT < <(alice query --diagnosis "$ID" -f csv "
  with c as (select min(from_ts) as cut from vnd_sampling where tbl = 'ids_in' and snaplen = 128),
       n as (select coalesce((select min(from_ts) from vnd_sampling where tbl = 'ids_in'
                              and from_ts > (select cut from c)), (select max(ts) from ids_in)) as nxt),
       s as (select min(ts) + 2 as t0 from ids_in),
       w as (select * from ids_in where dst_port = 5201 and payload_len > 0 and ts >= (select t0 from s)
             and ts < (select cut from c)),
       k as (select * from ids_in where dst_port = 5201 and payload_len > 0 and ts >= (select cut from c)
             and ts < (select nxt from n))
  select (select sum(payload_len) from w) * 8 / ((select cut from c) - (select t0 from s)),
         (select sum(payload_len) from k) * 8 / ((select nxt from n) - (select cut from c)),
         (select avg(payload_len) from w), (select avg(payload_len) from k)" 2>&1 |
  tail -1 | tr ',' ' ')
echo "# ids_in's data segments: ${SEG_WHOLE:-?} payload bytes each whole, ${SEG_CUT:-?} cut to 128 bytes"
echo "# ids_in's payload rate: ${BEFORE:-?} bit/s whole, ${CUTRATE:-?} bit/s cut (iperf3: $((SENT * 8 / DUR)) bit/s over $DUR s)"
check "... and counts every byte: a data segment's mean payload while cut is the whole copies' within 1%" \
    awk -v a="$SEG_WHOLE" -v b="$SEG_CUT" 'BEGIN { exit !(a > 128 && b >= 0.99 * a && b <= 1.01 * a) }'
check "... and so the payload rate while cut is the whole copies' within 10%" \
    awk -v a="$BEFORE" -v b="$CUTRATE" 'BEGIN { exit !(a > 0 && b >= 0.9 * a && b <= 1.1 * a) }'
# throughput scaled by each interval's rate: the whole run's bytes against iperf3's
alice diag throughput --diagnosis "$PID" -t client_out --slot 10 -f csv >"$W/tput.csv" 2>&1
sed 's/^/# /' "$W/tput.csv"
check "throughput answers on the flow-sampled trace" \
    test "$(grep -vc '^#' "$W/tput.csv")" -ge 3
check "throughput says it scaled by each interval's flow sampling" \
    grep -q '^# sampling: .*"treatment":"scaled"' "$W/tput.csv"
# t,packets,bytes,bps,bps_low,bps_high: the slots' bytes and their intervals, summed
read -r EST LO HI < <(awk -F, 'NR > 1 && !/^#/ { b += $3; l += $5 * 10 / 8; h += $6 * 10 / 8 }
                                END { printf "%d %d %d\n", b, l, h }' "$W/tput.csv")
echo "# payload bytes: iperf3 received $SENT; estimated $EST (the slots' 95% intervals summed: $LO .. $HI)"
# A live run holds a 95% interval 19 times in 20 (the switch's hash picked
# 23 of 32 flows at 1-in-2 once in five runs here), so the check widens it
# to 99.9% (3.29/1.96 times the half-width): a miss then is a wrong
# estimate or interval, not chance.  Unless the switch picked none of the
# 32 flows at some rate (at 1 in 16: (15/16)^32, 13% of runs; CI saw it):
# then no row holds anything of that time, nothing can be estimated for
# it, and the check says so instead of failing.
alice query --diagnosis "$PID" -f csv "
  with iv as (select from_ts, lead(from_ts) over (order by from_ts) as to_ts, flow_sampling
              from vnd_sampling where tbl = 'client_out')
  select group_concat('1-in-' || flow_sampling || ' from ' || printf('%.1f', from_ts), '; ')
  from iv where from_ts > 0 and not exists (select 1 from client_out
    where ts >= iv.from_ts and (iv.to_ts is null or ts < iv.to_ts))" >"$W/empty.csv" 2>&1
check "alice asks which rates of the switch picked no flow" test $? -eq 0 || sed 's/^/#   /' "$W/empty.csv"
EMPTY=$(tail -n +2 "$W/empty.csv" | tr -d '"')
# The interval holds when the switch keeps each flow 1 time in F on its
# own.  Its hash of these flows (one client, consecutive ports) did not
# always: it kept 23 of 32 once in five runs here (independent picks do
# that 1 time in 100) and 7 of 33 in a CI run (1 time in 1,500).  So the
# flows it kept are counted against those before the last change: in a
# tail of the binomial that independent picks reach under 1 time in
# 1,000, the estimate's assumption is what failed (the switch's hash,
# not the estimate), and the check says so instead of failing.  (OVS's
# symmetric L4 hash as its source computes it, murmur over the addresses'
# and ports' XOR, gives 33 consecutive ports counts whose spread matches
# the binomial's over 28,000 such windows: so far these look like chance.)
IFS=, read -r NF KF FS < <(alice query --diagnosis "$PID" -f csv "
  with c as (select from_ts as t, flow_sampling as f from vnd_sampling
             where tbl = 'client_out' order by from_ts desc limit 1)
  select (select count(distinct src_port) from client_out where ts < (select t from c)),
         (select count(distinct src_port) from client_out where ts >= (select t from c) + 1),
         (select f from c)" 2>&1 | tail -1)
echo "# the switch's flow sampling kept ${KF:-?} of ${NF:-?} flows at 1 in ${FS:-?}"
ODD=$(awk -v n="$NF" -v k="$KF" -v f="$FS" 'BEGIN {
    if (!(n > 0) || !(f > 1) || k == "") { print 0; exit }
    p = 1 / f; lo = 0; hi = 0
    for (i = 0; i <= n; i++) {
        lp = 0; for (j = 1; j <= i; j++) lp += log(n - i + j) - log(j)
        q = exp(lp + i * log(p) + (n - i) * log(1 - p))
        if (i <= k) lo += q; if (i >= k) hi += q
    }
    print (lo < 0.001 || hi < 0.001) ? 1 : 0 }')
if [ "$ODD" = 1 ] && [ -z "$EMPTY" ]; then
    skip "what iperf3 received is within the estimate's 99.9% interval: the switch's hash kept $KF of $NF flows at 1 in $FS, a tail independent picks reach under 1 time in 1,000"
elif [ -n "$EMPTY" ]; then
    skip "what iperf3 received is within the estimate's 99.9% interval: the switch picked no flow at $EMPTY, so the rows hold nothing of that time"
    check "... and throughput says so: that time is missing from its estimate, not zero" \
        sh -c "grep -q '\"kept_rows\":false' '$W/tput.csv' && grep -q 'no row was kept under 1-in-[0-9]* flows from' '$W/tput.csv'"
else
    check "throughput's sampled intervals each kept rows (kept_rows true)" \
        sh -c "grep -q '\"kept_rows\":true' '$W/tput.csv' && ! grep -q '\"kept_rows\":false' '$W/tput.csv'"
    check "what iperf3 received is within the estimate's 99.9% interval" \
        awk -v e="$EST" -v h="$HI" -v s="$SENT" \
            'BEGIN { w = (h - e) * 3.29 / 1.96; exit !(s > 0 && h > e && s >= e - w && s <= e + w) }'
fi
# IPFIX: the switch scales each sample by its rate (65535/probability),
# so the records' bytes estimate all of the flow's at any rate: the IP
# bytes out of the ids, data segments and ACKs, against iperf3's payload
# (1,448 of 1,500 bytes a segment; ACKs add some percent)
await_sampling_rows "$XID" 1
alice query --diagnosis "$XID" -f csv "select tbl, from_ts, sampling, reason from vnd_sampling order by from_ts" >"$W/xsamp.csv" 2>&1
sed 's/^/# ipfix vnd_sampling: /' "$W/xsamp.csv"
check "vnd_sampling records the ipfix trace's rate from when the switch changed it" \
    awk -F, -v t1="$T1" 'NR > 1 && $2 > t1 && $2 < t1 + 60 && $3 > 1 && $4 ~ /host budget/ { f = 1 } END { exit !f }' "$W/xsamp.csv"
XN=$(alice query --diagnosis "$XID" -f csv "select sampling from vnd_meta" 2>&1 | tail -1)
check "its vnd_meta says the rate the switch samples at now (1 in ${XN:-?}: probability 65535/${XN:-?} = $(ipfix_probability))" \
    test -n "$XN" -a "$((65535 / ${XN:-1}))" = "$(ipfix_probability)"
XB=$(alice query --diagnosis "$XID" -f csv "select coalesce(sum(bytes), 0) from ids_out" 2>&1 | tail -1)
echo "# IPFIX: the records' IP bytes ${XB:-?} against iperf3's payload $SENT"
check "the records' bytes, scaled by the switch at each rate, are 1.0 to 1.15 times iperf3's payload" \
    awk -v x="$XB" -v s="$SENT" 'BEGIN { exit !(s > 0 && x >= s && x <= 1.15 * s) }'
alice query --diagnosis "$SID" -f csv "select tbl, from_ts, sampling, reason from vnd_sampling order by from_ts" >"$W/ssamp.csv" 2>&1
sed 's/^/# sflow vnd_sampling: /' "$W/ssamp.csv"
check "vnd_sampling records the agent's rates of the sflow trace from when they changed" \
    awk -F, -v t1="$T1" 'NR > 1 && $2 > t1 && $3 > 4 && $4 ~ /host budget/ { f = 1 } END { exit !f }' "$W/ssamp.csv"
check_eq "its vnd_meta says the agent's rate now" \
    "$(alice query --diagnosis "$SID" -f csv "select sampling from vnd_meta" 2>&1 | tail -1)" \
    "$(agent_sampling)"

# a budget copying less cannot meet: 5% of a core, under what the switch
# takes to forward alone (the part the shares before and after a change
# say does not depend on the copies), with the same traffic again (after
# the throughput check above, so that its rates are the two phases')
iperf3_server "$TB_ALICE_SERVER"; SRV=$IPERF_SRV
# (120 s: the phases below wait at most that long; the client is ended
# when they are done)
ip netns exec "$TB_ALICE_CLIENT" iperf3 -c 10.0.2.2 -P 32 -t 120 -b 1500K >/dev/null 2>&1 &
CLI=$!
sleep 6
lower_budget 5
for _ in $(seq 40); do
    sleep 1
    # (the state may be "at floor" of the old budget until the NIB is read)
    [ "$(budget | jq -r '"\(.cpu_pct) \(.state)"')" = "5 at floor" ] && break
done
budget | sed 's/^/# budget 5%: /'
check_eq "a budget of 5%: the control server says it is at the floor" \
    "$(budget | jq -r '"\(.cpu_pct) \(.state)"')" "5 at floor"
F=$(budget | jq -r '.fixed_pct // 0')
check "... having learnt that about ${F}% of a core does not depend on the copies (> 4.5%)" \
    awk -v f="$F" 'BEGIN { exit !(f > 4.5) }'
check "... and its log says copying less cannot meet the budget" \
    grep -q "budget hv1: about [0-9]*% of a core does not depend on what the switch copies, over 90% of the budget of 5%" "$BED/controld.log"
N1=$(budget | jq -r .changes)
G1=$(ovs-ofctl -O OpenFlow15 dump-groups "$TB_OFCTL_HV1" | grep -o 'weight:[0-9]*' | head -1)
sleep 11
check_eq "... and changes nothing more over the next two polls" "$(budget | jq -r .changes)" "$N1"
check_eq "... the switch's group as it was ($G1 of 256 hash values copied)" \
    "$(ovs-ofctl -O OpenFlow15 dump-groups "$TB_OFCTL_HV1" | grep -o 'weight:[0-9]*' | head -1)" "$G1"
grep 'budget hv1' "$BED/controld.log" | tail -n +4 | sed 's/^/# /'

# the budget as a tolerated drop in tenant throughput (50%), the levers
# raised high by the phase before: the copies' part of the share (the
# table server's) is small, doubling it stays under 70% of 50%, so the
# controller gives copies back, a step per five calm polls (raising on it
# is test_budget_rule's)
N2=$(budget | jq -r .changes)
sed -i "0,/\"cpu_pct\": 5\b/s//\"drop_pct\": 50/" "$TB_NIB"
kill -HUP "$CPID"
for _ in $(seq 50); do
    sleep 1
    [ "$(budget | jq -r .changes)" -gt "$N2" ] && break
done
B3=$(budget)
echo "$B3" | sed 's/^/# tolerated drop 50%: /'
check_eq "a tolerated drop of 50%: the control server reports it (no CPU budget)" \
    "$(echo "$B3" | jq -r '"\(.drop_pct) \(.cpu_pct)"')" "50 null"
check_eq "... its estimate of what copying costs the tenants' throughput, the table server's part of the share, under it" \
    "$(jq -r '.drop_est_pct != null and .drop_est_pct < 50 and ((.drop_est_pct - 100 * .tabled_share_pct / .share_pct) | fabs) < 0.01' \
       <<<"$B3")" true
check "... and gives copies back: a step down, the log saying why" \
    grep -q "budget hv1: .*(host budget: copies estimated to cost [0-9.]*% of tenant throughput (ovs-vswitchd [0-9]*% + table server [0-9]*% of a core), under 70% with twice the copies of the 50% tolerated)" "$BED/controld.log"
grep 'tolerated' "$BED/controld.log" | head -4 | sed 's/^/# /'

# the switch's own CPU per copy (NIB "copy_ns", which bench/cost.sh
# measures): the estimate is then the larger of the table server's part
# and the switch's, the copies/s the table server's capture counted times
# copy_ns over the switch's share
sed -i "0,/\"drop_pct\": 50\b/s//\"drop_pct\": 50, \"copy_ns\": 5000/" "$TB_NIB"
kill -HUP "$CPID"
for _ in $(seq 30); do
    sleep 1
    B4=$(budget)
    [ "$(jq -r '.ovs_copies_pct != null' <<<"$B4")" = true ] && break
done
echo "$B4" | sed 's/^/# copy_ns 5000: /'
f=/sys/class/net/$TB_MIRROR_HV1/statistics/rx_packets
a=$(cat "$f"); sleep 3; P4=$(( ($(cat "$f") - a) / 3 ))
C4=$(jq -r '.ovs_copies_pct // 0 | . * 2000 | floor' <<<"$B4")   # % of a core / 100 / 5 us
check_eq "copy_ns: the switch's work for the copies is reported, and the estimate is the larger part" \
    "$(jq -r '.ovs_copies_pct >= 0 and ((.drop_est_pct - ([100 * .tabled_share_pct / .share_pct, 100 * .ovs_copies_pct / .ovs_share_pct, 0] | max | if . > 100 then 100 else . end)) | fabs) < 0.01' \
       <<<"$B4")" true
# (a loose band: the control server's poll and these 3 s are different
# windows of traffic whose copies the levers change.  The phases before
# may have left every flow of the hash-sampled traces unpicked: then no
# copy reaches the capture, and none may be counted.)
check "... from the copies the capture counted ($C4/s; the interface received $P4/s over 3 s)" \
    awk -v c="$C4" -v p="$P4" 'BEGIN { exit !((p < 100 && c < 300) || (c > p / 3 && c < 3 * p)) }'
kill "$CLI" 2>/dev/null; wait "$CLI"; CLI=
wait "$SRV"; SRV=
alice stop "$ID" >/dev/null 2>&1
alice stop "$SID" >/dev/null 2>&1
alice stop "$PID" >/dev/null 2>&1
alice stop "$XID" >/dev/null 2>&1
done_testing
