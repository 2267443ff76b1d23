#!/usr/bin/env bash
# tabled_capture.sh — what live capture costs, on the OVS test bed.
#
# An iperf3 TCP flow h1 → h2 at the highest rate it reaches through the
# userspace datapath; a capture rule copies h1's packets (tagged) to the
# mirror port.  Phases, each SECONDS long (default 5):
#   off        no capture rule: the tenant flow's throughput alone
#   tabled     vnd-tabled stores every packet (whole frames, default columns)
#   side-by-side  vnd-tabled and `tcpdump -w` on the same mirror port, same run
#   sampled    vnd-tabled, 1 in 10, 128 bytes (the second paper's levers)
# Reports per phase: throughput, packets sent to the mirror (OVS rule
# counter), captured and kernel-dropped by each capturer, and CPU seconds
# (user+system, all threads, from /proc) per million packets.
#
#   bench/tabled_capture.sh [BUILD=build] [SECONDS=5]
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SECS=${2:-5}
TABLED=$PWD/$BUILD/vnd-tabled
source tests/lib.sh
source tests/integration/lib-ovs.sh
W=$(mktemp -d /tmp/vnd-bench.XXXXXX)
PID= IPERF= TCPD=
cleanup() {
    for p in $PID $IPERF $TCPD; do kill "$p" 2>/dev/null; done
    sleep 0.3
    ovs_bed_down
    rm -rf "$W"
}
trap cleanup EXIT
ovs_bed_up || { echo "tabled_capture: cannot build the OVS test bed: $OVS_WHY"; exit 0; }
head -c 24 /dev/urandom | base64 >"$W/secret"; chmod 600 "$W/secret"
SECRET=$(cat "$W/secret")
URL=http://127.0.0.1:7440
tb() { ip netns exec "$B_TB" "$@"; }
api() { tb curl -s --max-time 10 -X "$1" -H "Authorization: Bearer $SECRET" ${3:+--data-binary "$3"} "$URL$2"; }
num() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -1 | cut -d: -f2; }
# Everything vnd-tabled lost at the interface: kernel ring + its own queue.
drops() { echo $(( $(num kernel_dropped "$1") + $(num queue_dropped "$1") )); }
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }     # clock ticks, all threads
TCK=$(getconf CLK_TCK)

tb sh -c 'echo $$ >"$0"; exec "$@"' "$W/pid" "$TABLED" --interface "$B_MIRROR" --db "$W/t.db" \
    --listen 127.0.0.1:7440 --secret-file "$W/secret" --log-file "$W/log" &
sleep 0.5; PID=$(cat "$W/pid")
for _ in $(seq 50); do api GET /v1/traces >/dev/null && break; sleep 0.1; done
ip netns exec "$B_H2" iperf3 -s >/dev/null 2>&1 &
IPERF=$!
sleep 0.5

# run_iperf: prints receiver Mbit/s
run_iperf() {
    ip netns exec "$B_H1" timeout $((SECS + 15)) iperf3 -c "$B_IP2" -t "$SECS" -f m 2>/dev/null \
        | awk '/receiver/ { print $(NF-2) }'
}

printf '%-13s %9s %10s | %-10s %10s %8s %9s | %-10s %10s %8s %9s\n' phase Mbit/s sent \
    capturer captured drops cpu-s/Mp capturer captured drops cpu-s/Mp
report() {   # phase mbit sent name captured drops cpu [name captured drops cpu]
    local per1 per2=
    per1=$(awk -v c="$5" -v t="$7" 'BEGIN { printf "%.2f", c ? t / (c / 1e6) : 0 }')
    printf '%-13s %9s %10s | %-10s %10s %8s %9s' "$1" "$2" "$3" "$4" "$5" "$6" "$per1"
    if [ $# -gt 7 ]; then
        per2=$(awk -v c="$9" -v t="${11}" 'BEGIN { printf "%.2f", c ? t / (c / 1e6) : 0 }')
        printf ' | %-10s %10s %8s %9s' "$8" "$9" "${10}" "$per2"
    fi
    echo
}

# --- off
mbit=$(run_iperf)
report off "$mbit" 0 - 0 0 0

# phase NAME TRACE-JSON WITH_TCPDUMP
phase() {
    api POST /v1/traces "$2" >/dev/null
    ovs_capture_rule 0x1 1 101
    local s0 k0 c0 t0= before after
    before=$(api GET /v1/traces)
    s0=$(num seen "$before"); k0=$(drops "$before")
    if [ "$3" = 1 ]; then
        rm -f "$W/tdpid"
        tb sh -c 'echo $$ >"$0"; exec "$@"' "$W/tdpid" tcpdump -i "$B_MIRROR" -Q in -B 65536 \
            -w "$W/td.pcap" 2>"$W/td.err" &
        TDJOB=$!
        sleep 1
        TCPD=$(cat "$W/tdpid")
        t0=$(cpu "$TCPD")
    fi
    sleep 0.3
    local p0; p0=$(ovs_rule_packets 0x1)
    c0=$(cpu "$PID")
    local mbit; mbit=$(run_iperf)
    sleep 1.5
    local c1 p1; c1=$(cpu "$PID"); p1=$(ovs_rule_packets 0x1)
    local t1=
    [ "$3" = 1 ] && t1=$(cpu "$TCPD")
    after=$(api GET /v1/traces)
    local seen=$(( $(num seen "$after") - s0 )) kd=$(( $(drops "$after") - k0 ))
    local tsec; tsec=$(awk -v a="$c0" -v b="$c1" -v h="$TCK" 'BEGIN { printf "%.2f", (b - a) / h }')
    if [ "$3" = 1 ]; then
        # SIGTERM: background jobs of a script ignore SIGINT.
        kill -TERM "$TCPD"; wait "$TDJOB" 2>/dev/null; TCPD=
        local tc td tdsec
        tc=$(awk '/packets captured/ { print $1 }' "$W/td.err")
        td=$(awk '/dropped by kernel/ { print $1 }' "$W/td.err")
        tdsec=$(awk -v a="$t0" -v b="$t1" -v h="$TCK" 'BEGIN { printf "%.2f", (b - a) / h }')
        report "$1" "$mbit" $((p1 - p0)) vnd-tabled "$seen" "$kd" "$tsec" tcpdump "$tc" "$td" "$tdsec"
    else
        report "$1" "$mbit" $((p1 - p0)) vnd-tabled "$seen" "$kd" "$tsec"
    fi
    ovs_del_rules 0x1
    api DELETE /v1/traces/b >/dev/null
    rm -f "$W/td.pcap"
}
[ -n "${ONLY:-}" ] || phase tabled '{"id": "b", "tag": 101}' 0
phase side-by-side '{"id": "b", "tag": 101}' 1
phase sampled '{"id": "b", "tag": 101, "sampling": 10, "snaplen": 128}' 0
# --- blast: beyond what iperf3 reaches through OVS, frames straight into
# the mirror port (pktsend on its peer), both capturers side by side.
"$BUILD/bench/gen_capture" "$W/blast.pcap" 1000000 64 >/dev/null
api POST /v1/traces '{"id": "b", "tag": 101}' >/dev/null
before=$(api GET /v1/traces); s0=$(num seen "$before"); k0=$(drops "$before")
rm -f "$W/tdpid"
tb sh -c 'echo $$ >"$0"; exec "$@"' "$W/tdpid" tcpdump -i "$B_MIRROR" -Q in -B 65536 \
    -w "$W/td.pcap" 2>"$W/td.err" &
TDJOB=$!; sleep 1; TCPD=$(cat "$W/tdpid")
c0=$(cpu "$PID"); t0=$(cpu "$TCPD"); w0=$(date +%s.%N)
sent=$("$BUILD/bench/pktsend" -i "$B_PM" -t 101 "$W/blast.pcap")
w1=$(date +%s.%N)
sleep 2
c1=$(cpu "$PID"); t1=$(cpu "$TCPD")
kill -TERM "$TCPD"; wait "$TDJOB" 2>/dev/null; TCPD=
after=$(api GET /v1/traces)
pps=$(awk -v n="$sent" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.0fk", n / (b - a) / 1000 }')
report "blast@$pps" - "$sent" vnd-tabled $(( $(num seen "$after") - s0 )) \
    $(( $(drops "$after") - k0 )) "$(awk -v a="$c0" -v b="$c1" -v h="$TCK" 'BEGIN { printf "%.2f", (b - a) / h }')" \
    tcpdump "$(awk '/packets captured/ { print $1 }' "$W/td.err")" \
    "$(awk '/dropped by kernel/ { print $1 }' "$W/td.err")" \
    "$(awk -v a="$t0" -v b="$t1" -v h="$TCK" 'BEGIN { printf "%.2f", (b - a) / h }')"
echo "# cpu-s/Mp: CPU seconds (user+system, every thread of the process) per million packets captured"
echo "# drops: vnd-tabled: kernel ring + its own queue; tcpdump: kernel ring (its only queue)"
echo "# sent: packets the capture rule copied to the mirror port (OVS rule counter) during the phase"
