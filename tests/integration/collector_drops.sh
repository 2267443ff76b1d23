#!/usr/bin/env bash
# collector_drops.sh — the datagrams a collector's socket drops are counted
# where the tenant and the operator look.  A vnd-tabled collecting IPFIX
# is stopped (SIGSTOP) while bench/flowsend sends it 20,000 messages (28 MB,
# past its 8 MB buffer); the kernel's count of drops for the port
# (/proc/net/udp) must then be what GET /v1/traces says as the source's
# kernel_dropped and what vnd_meta says as the trace's dropped_kernel once
# it runs again (SIGCONT), and the records of every message it got must be
# stored.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
SEND=${VND_BUILD:-build}/bench/flowsend
VND=${VND_BUILD:-build}/vnd
for f in "$SEND" "$VND"; do
    [ -e "$f" ] || { not_ok "$f is not built (make)"; done_testing; exit 1; }
done
tabled_setup coldrop 47441 120
tabled_start --ipfix-listen 127.0.0.1:47442
check "vnd-tabled collects IPFIX" test $? -eq 0
api POST /v1/traces '{"id":"flows","tag":1,"mode":"ipfix"}'
check_eq "an ipfix trace: 201" "$CODE" 201
# another observation domain's records (a bridge's own exporter, a sender
# on the management network) with the trace's number as their point: not
# the trace's, counted as of an unknown point
# source_counts A B WANT: "A B" of the IPFIX source's counters (GET
# /v1/traces) in $got, asked until it is WANT (10 s at most)
source_counts() {
    got=
    for _ in $(seq 50); do
        api GET /v1/traces
        got=$(jq -r --arg a "$1" --arg b "$2" \
              '.capture[]? | select(.kind == "ipfix") | "\(.[$a]) \(.[$b])"' <<<"$BODY" 2>/dev/null)
        [ "$got" = "$3" ] && break
        sleep 0.2
    done
}
nsx "$SEND" -k ipfix -d 127.0.0.1:47442 -n 50 -p 5000 -i 1 -s 3 -D 1 >/dev/null
source_counts kernel_received unknown_tag "50 800"
check_eq "50 messages of another observation domain: their 800 records of an unknown point" \
    "$got" "50 800"
kill -STOP "$PID"
nsx "$SEND" -k ipfix -d 127.0.0.1:47442 -n 20000 -p 100000 -i 1 -s 5 >/dev/null
check "flowsend sent 20,000 messages of 16 records" test $? -eq 0
# the local port, 47442, is B952 in /proc/net/udp; drops are its last field
DROPS=$(nsx awk '$2 ~ /:B952$/ { print $NF }' /proc/net/udp)
kill -CONT "$PID"
echo "# the kernel dropped $DROPS of 20000 messages"
check "the socket overflowed while the table server was stopped (${DROPS:-none} dropped)" \
    test "${DROPS:-0}" -gt 0
source_counts kernel_received kernel_dropped "$((20050 - ${DROPS:-0})) ${DROPS:-x}"
check_eq "GET /v1/traces: the source received the rest and dropped what the kernel says" \
    "$got" "$((20050 - ${DROPS:-0})) ${DROPS:-x}"
meta() { "$VND" query -d "$W/t.db" --tenant default -f csv "$1" | sed 1d | tr -d '"'; }
for _ in $(seq 50); do
    [ "$(meta 'select count(*) from flows')" = "$(( (20000 - ${DROPS:-0}) * 16 ))" ] && break
    sleep 0.2
done
check_eq "every record of the messages received is stored" "$(meta 'select count(*) from flows')" \
    "$(( (20000 - ${DROPS:-0}) * 16 ))"
for _ in $(seq 25); do
    [ "$(meta "select dropped_kernel from vnd_meta where trace = 'flows'")" = "${DROPS:-x}" ] && break
    sleep 0.2
done
check_eq "vnd_meta: the trace's dropped_kernel is the kernel's count" \
    "$(meta "select dropped_kernel from vnd_meta where trace = 'flows'")" "${DROPS:-x}"
done_testing
