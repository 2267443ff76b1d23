#!/usr/bin/env bash
# tap_tabled.sh — Mode tap at the table server, without OVS: a trace reads
# a port's own interface (a packet socket on it, the kernel's filter and
# snap length) instead of tagged copies on the mirror port.  Two
# namespaces joined by a veth (pa in the table server's, pb in a second
# one); ping across it.  Direction "in" (into the tenant's node) is what
# the interface sends, "out" what it receives; the kernel keeps the
# frame's true length under a snap length; the filter and the match pick
# the frames; vnd_meta.updated never runs ahead of what is stored, also
# while the table server lags behind a flood; refusals; a restart restores
# the taps; DELETE closes the packet socket.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
tabled_setup tap 7436 120
NS2=vndtap2$$
ip netns add "$NS2" || { not_ok "a second namespace"; done_testing; exit 1; }
trap 'kill $WATCHDOG 2>/dev/null; ip netns del "$NS2" 2>/dev/null; tabled_cleanup' EXIT
nsx ip link add pa type veth peer name pb netns "$NS2"
nsx ip addr add 10.78.0.1/24 dev pa
nsx ip link set pa up
ip -n "$NS2" addr add 10.78.0.2/24 dev pb
ip -n "$NS2" link set pb up
ip -n "$NS2" link set lo up
IFX=$(nsx cat /sys/class/net/pa/ifindex)
q() { api POST /v1/query "{\"sql\": \"$1\", \"format\": \"csv\"}"; tail -n +2 <<<"$BODY"; }
pings() { nsx ping -c "$1" -i 0.05 -q 10.78.0.2 >/dev/null; sleep 1.2; }
# packet sockets bound to pa in the namespace (the table server's taps)
taps() { nsx awk -v i="$IFX" 'NR > 1 && $5 == i' /proc/net/packet | wc -l; }

check "vnd-tabled starts" tabled_start

# --- refusals
api POST /v1/traces '{"id": "x", "tag": 9, "mode": "tap", "direction": "in"}'
check_eq "a tap without ifindex: 400" "$CODE" 400
check "... saying what it needs" grep -q 'needs \\"ifindex' <<<"$BODY"
api POST /v1/traces '{"id": "x", "tag": 9, "mode": "tap", "ifindex": 999999, "direction": "in"}'
check_eq "an ifindex no interface has: 400" "$CODE" 400
check "... naming it" grep -q 'no interface has ifindex 999999' <<<"$BODY"
api POST /v1/traces "{\"id\": \"x\", \"tag\": 9, \"mode\": \"tap\", \"ifindex\": $IFX, \"direction\": \"in\", \"filter\": \"icmp and nonsense\"}"
check_eq "a filter libpcap cannot compile: 400" "$CODE" 400
check "... naming the interface and the filter" grep -q 'interface pa: filter' <<<"$BODY"
api POST /v1/traces '{"id": "x", "tag": 9, "filter": "icmp"}'
check_eq "a filter on a mirror trace: 400" "$CODE" 400
api POST /v1/traces "{\"id\": \"x\", \"tag\": 9, \"mode\": \"tap\", \"ifindex\": $IFX, \"direction\": \"in\", \"flow_sampling\": 10}"
check_eq "flow sampling (the switch's) on a tap: 400" "$CODE" 400
check_eq "no packet socket left by the refusals" "$(taps)" 0

# --- both directions, a snap length
api POST /v1/traces "{\"id\": \"t_in\", \"tag\": 10, \"mode\": \"tap\", \"ifindex\": $IFX, \"direction\": \"in\", \"filter\": \"icmp\", \"match\": \"ip.proto = 1\"}"
check_eq "a tap of what pa sends (direction in): 201" "$CODE" 201
api POST /v1/traces "{\"id\": \"t_out\", \"tag\": 11, \"mode\": \"tap\", \"ifindex\": $IFX, \"direction\": \"out\", \"snaplen\": 60, \"match\": \"ip.proto = 1\",
  \"parse\": \"Trace ID all\\nFields: timestamp as ts, ip.src as src_ip, frame.caplen as caplen, frame.len as len\\n\"}"
check_eq "a tap of what pa receives, cut to 60 bytes (direction out): 201" "$CODE" 201
check_eq "two packet sockets on pa" "$(taps)" 2
# named, not the API request's thread's name, which the CPU budget leaves out
check_eq "two capture threads named vnd-tap (the CPU budget counts them)" \
    "$(cat /proc/"$PID"/task/*/comm | grep -c '^vnd-tap$')" 2
api GET /v1/traces/t_in
check "GET says mode tap" grep -q '"mode":"tap"' <<<"$BODY"
check "... the interface and the filter" grep -q '"interface":"pa".*"filter":"icmp"' <<<"$BODY"
pings 20
check_eq "t_in: the 20 echo requests, from pa's address" "$(q "select count(*), min(src_ip), max(src_ip) from t_in")" "20,10.78.0.1,10.78.0.1"
check_eq "t_out: the 20 replies, to it" "$(q "select count(*), min(src_ip), max(src_ip) from t_out")" "20,10.78.0.2,10.78.0.2"
check_eq "t_out: 60 bytes kept, the frame's 98 said" "$(q "select min(caplen), max(caplen), min(len), max(len) from t_out")" "60,60,98,98"
check_eq "vnd_meta: the source is a tap, its snap length 60" "$(q "select source, snaplen, packets_stored from vnd_meta where trace = 't_out'")" "vnd-tabled tap,60,20"
# vnd_meta.updated, what loss judges by: the table holds every frame its
# capture read before it.  Past the newest row; and with pa idle, moved on
# to 0.2 s before the ring was last found empty, at most a commit (0.5 s)
# ago (libpcap's own wait never returns on an idle ring: it stayed at the
# newest row)
sleep 1
IFS=, read -r UPD NEWEST < <(q "select (select updated from vnd_meta where trace = 't_out'), (select max(ts) from t_out)")
NOW=$(date +%s.%N)
check "vnd_meta.updated is past t_out's newest row ($UPD, newest $NEWEST)" \
    test "$(echo "$UPD >= $NEWEST" | bc -l)" = 1
check "... and with pa idle, within 1.2 s of now ($(echo "$NOW - $UPD" | bc -l) s before it)" \
    test "$(echo "$NOW - $UPD < 1.2 && $UPD <= $NOW" | bc -l)" = 1
# A table server that lags behind its capture (stopped for a second while
# a flood goes on: the frames wait in the kernel's ring) must not publish
# an updated past frames it has not stored: each read takes updated and
# the rows before it in one snapshot, and once all is in, the rows before
# that updated must be as many (with the commit's wall time as updated,
# rows with earlier capture times kept arriving as it caught up)
: >"$W/lag"
nsx ping -f -w 3 -q 10.78.0.2 >/dev/null 2>&1 & FLOOD=$!
CLEANUP_PIDS="$CLEANUP_PIDS $FLOOD"
sleep 0.5; kill -STOP "$PID"; sleep 1; kill -CONT "$PID"
# updated as the API writes a REAL (17 digits: the same double back);
# SQLite's printf('%.17g') gives 15 digits (CI: one row off at the edge)
LAGQ="select updated, (select count(*) from t_out where ts < updated) from vnd_meta where trace = 't_out'"
while kill -0 "$FLOOD" 2>/dev/null; do q "$LAGQ" >>"$W/lag"; done
for i in 1 2 3 4 5; do q "$LAGQ" >>"$W/lag"; sleep 0.1; done
sleep 1.2
NREAD=0 NBAD=0
while IFS=, read -r U C; do
    [ -n "$U" ] || continue
    NREAD=$((NREAD + 1))
    F=$(q "select count(*) from t_out where ts < $U")
    [ "$F" = "$C" ] || { NBAD=$((NBAD + 1)); echo "# updated $U: $C rows before it then, $F now"; }
done <"$W/lag"
check "lagging behind a flood after a 1-s stop, no updated ran ahead of what was stored ($NREAD reads, $NBAD ahead; $(q "select count(*) from t_out") rows)" \
    test "$NREAD" -gt 0 -a "$NBAD" = 0
api GET /v1/traces
check "the mirror port (vb) received none of it" grep -q '"interface":"vb","received":0,' <<<"$BODY"

# --- a restart restores the taps
N_IN=$(q "select count(*) from t_in") N_OUT=$(q "select count(*) from t_out")
kill -TERM "$PID"; wait "$JOB" 2>/dev/null
check "restarts" tabled_start
check_eq "the two taps are back" "$(taps)" 2
pings 10
check_eq "t_in goes on: 10 requests more" "$(q "select count(*) from t_in")" $((N_IN + 10))
check_eq "t_out goes on: 10 replies more" "$(q "select count(*) from t_out")" $((N_OUT + 10))

# --- DELETE closes the tap
api DELETE /v1/traces/t_in
check_eq "DELETE t_in: 200" "$CODE" 200
check_eq "one packet socket left on pa" "$(taps)" 1
api DELETE /v1/traces/t_out
check_eq "none after t_out's DELETE" "$(taps)" 0
check "no error in the log" bash -c "! grep -q ' error ' '$W/log'"
done_testing
