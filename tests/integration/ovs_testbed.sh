#!/usr/bin/env bash
# ovs_testbed.sh — vnd-tabled on the OVS test bed (DESIGN.md): real
# ovs-vswitchd with the userspace datapath, two namespaces as VMs, VND's
# capture rules in table 0 pushing a tag per trace onto copies sent to the
# mirror port.  Ping and an iperf3 flow are captured at two points (the
# input from each VM); row counts must equal OVS's own rule counters;
# a third trace samples 1 in 10 with a snap length; SIGKILL + restart keeps
# everything.  Skips when OVS cannot start here.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ovs.sh"
TABLED=${VND_TABLED:-$VND_BUILD/vnd-tabled}
W=$(mktemp -d /tmp/vnd-ovstest.XXXXXX)
PID= IPERF=
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    [ -n "$IPERF" ] && kill "$IPERF" 2>/dev/null
    ovs_bed_down
    rm -rf "$W"
}
( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep 110 >/dev/null & s=$!; wait $s
  echo "not ok - ovs_testbed.sh timed out"; kill -TERM $$ ) 2>/dev/null &
WATCHDOG=$!
trap 'kill $WATCHDOG 2>/dev/null; cleanup' EXIT

if ! ovs_bed_up; then
    skip "OVS test bed: $OVS_WHY"
    done_testing; exit 0
fi
ok "OVS test bed up (netdev datapath, bridge $B_BR, mirror port no-flood)"

head -c 24 /dev/urandom | base64 >"$W/secret"; chmod 600 "$W/secret"
SECRET=$(cat "$W/secret")
URL=http://127.0.0.1:7430
tb() { ip netns exec "$B_TB" "$@"; }
start() {
    rm -f "$W/pid"
    tb sh -c 'echo $$ >"$0"; exec "$@"' "$W/pid" "$TABLED" --interface "$B_MIRROR" \
        --db "$W/t.db" --listen 127.0.0.1:7430 --secret-file "$W/secret" --log-file "$W/log" &
    JOB=$!
    for _ in $(seq 20); do [ -s "$W/pid" ] && break; sleep 0.05; done
    PID=$(cat "$W/pid")
    for _ in $(seq 50); do
        tb curl -s -o /dev/null --max-time 1 -H "Authorization: Bearer $SECRET" "$URL/v1/traces" && return 0
        sleep 0.1
    done
    return 1
}
api() {
    BODY=$(tb curl -s --max-time 10 -X "$1" -H "Authorization: Bearer $SECRET" \
           ${3:+--data-binary "$3"} -w '\n%{http_code}' "$URL$2")
    CODE=${BODY##*$'\n'}; BODY=${BODY%$'\n'*}
}
num() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -1 | cut -d: -f2; }
q() { api POST /v1/query "{\"sql\": \"$1\", \"format\": \"csv\"}"; sed -n 2p <<<"$BODY"; }
trace() { api GET "/v1/traces/$1"; num "$2" "$BODY"; }

check "vnd-tabled captures the mirror port" start
api POST /v1/traces '{"id": "in_h1", "tag": 101, "cap_point": "h1", "direction": "output"}'
check_eq "trace in_h1 (tag 101)" "$CODE" 201
api POST /v1/traces '{"id": "in_h2", "tag": 102}'
check_eq "trace in_h2 (tag 102)" "$CODE" 201
api POST /v1/traces '{"id": "s_h1", "tag": 103, "sampling": 10, "snaplen": 96,
  "parse": "Trace ID all\nFields: timestamp as ts, ip.proto as proto, frame.caplen as caplen, frame.len as len\n"}'
check_eq "trace s_h1 (tag 103, 1 in 10, 96 bytes)" "$CODE" 201
# Point 1: what h1 sends (two copies: full and sampled); point 2: what h2 sends.
ovs_capture_rule 0x1 1 101 103 && ovs_capture_rule 0x2 2 102
check "capture rules with cookies in table 0" test "$(ofctl dump-flows "$B_BR" table=0 | grep -c cookie=0x[12])" = 2

ip netns exec "$B_H2" iperf3 -s -1 >/dev/null 2>&1 &
IPERF=$!
ip netns exec "$B_H1" ping -q -c 20 -i 0.02 "$B_IP2" >/dev/null
check "ping h1 → h2 through OVS" test $? -eq 0
sleep 0.3
ip netns exec "$B_H1" timeout 20 iperf3 -c "$B_IP2" -t 2 -b 200M >"$W/iperf" 2>&1
check "iperf3 h1 → h2 through OVS" test $? -eq 0
wait "$IPERF" 2>/dev/null; IPERF=
sleep 1.5    # OVS's rule counters lag the datapath; the last batch commits

P1=$(ovs_rule_packets 0x1); P2=$(ovs_rule_packets 0x2)
echo "# OVS rule counters: point 1 $P1 packets, point 2 $P2 packets"
check "thousands of packets crossed point 1" test "${P1:-0}" -gt 2000
check_eq "in_h1: rows = packets OVS copied at point 1" "$(q 'select count(*) from in_h1')" "$P1"
check_eq "in_h2: rows = packets OVS copied at point 2" "$(q 'select count(*) from in_h2')" "$P2"
check_eq "in_h1: seen = stored = OVS counter" "$(trace in_h1 seen),$(trace in_h1 stored)" "$P1,$P1"
check_eq "no kernel or queue drops" "$(trace in_h1 dropped_kernel),$(trace in_h1 dropped_queue)" "0,0"
check_eq "the 20 echo requests are at point 1" "$(q 'select count(*) from in_h1 where proto = 1')" 20
check_eq "the 20 echo replies are at point 2" "$(q 'select count(*) from in_h2 where proto = 1')" 20
check_eq "the iperf3 data is at point 1 (dst port 5201)" \
    "$(q 'select count(*) > 1000 from in_h1 where dst_port = 5201 and payload_len > 0')" 1
want=$(( (P1 + 9) / 10 ))
check_eq "s_h1: 1 in 10 of point 1 stored" "$(q 'select count(*) from s_h1')" "$want"
check_eq "s_h1: seen and sampled out say so" "$(trace s_h1 seen),$(trace s_h1 sampled_out)" "$P1,$((P1 - want))"
check_eq "s_h1: vnd_meta records sampling and snaplen" \
    "$("$VND" query -d "$W/t.db" --tenant default -f csv "select sampling, snaplen, packets_seen, sampled_out from vnd_meta where trace = 's_h1'" | tail -1)" \
    "10,96,$P1,$((P1 - want))"
check_eq "snaplen: nothing kept beyond 96 bytes" "$(q 'select max(caplen) <= 96 from s_h1')" 1
check_eq "snaplen: the wire length stays" "$(q 'select max(len) > 1000 from s_h1')" 1
api GET /v1/traces
# The mirror port is no-flood: only tagged copies reach it.  (Untagged
# frames would be counted and never stored.)
echo "# untagged frames on the mirror port: $(num untagged "$BODY")"
check_eq "no frame with a tag no trace has" "$(num unknown_tag "$BODY")" 0
check "untagged frames (flooded broadcasts) are few and counted" test "$(num untagged "$BODY")" -lt 10

# --- SIGKILL and restart
kill -9 "$PID"; wait "$JOB" 2>/dev/null; PID=
check "restart after SIGKILL" start
check_eq "in_h1 kept its rows" "$(q 'select count(*) from in_h1')" "$P1"
check_eq "s_h1 kept its counters" "$(trace s_h1 seen)" "$P1"
ip netns exec "$B_H1" ping -q -c 5 -i 0.02 "$B_IP2" >/dev/null
sleep 1.5
P1b=$(ovs_rule_packets 0x1)
check_eq "capture continues after the restart: rows = OVS counter" \
    "$(q 'select count(*) from in_h1')" "$P1b"
check "sqlite integrity" test "$(sqlite3 "$W/t.db.tenants/default.db" 'pragma integrity_check')" = ok
kill -TERM "$PID"; wait "$JOB"; rc=$?; PID=
check_eq "SIGTERM: clean exit" "$rc" 0
done_testing
