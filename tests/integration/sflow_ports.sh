#!/usr/bin/env bash
# sflow_ports.sh — an sFlow sample finds its traces by its ports' ifIndex
# among many (capture/sflow_source.c keeps them sorted and searches), and
# a change of the agent's rate replaces the trace's entry, not adds one.
# 60 sflow traces on ports 1..30 (one of each port's input, one of its
# output), made in a shuffled order, 10 deleted; bench/flowsend's samples
# enter the switch at port i and leave it at port i + 1: each live trace
# stores exactly the samples of its port and direction (a VM's output,
# "out", is what enters the switch from it).  Then the agent's rate goes
# to 1 in 2 for one trace (PATCH, as the control server's budget does): it keeps 1 in
# 2 of its port's samples from then on, each once.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
SEND=${VND_BUILD:-build}/bench/flowsend
[ -e "$SEND" ] || { not_ok "$SEND is not built (make)"; done_testing; exit 1; }
tabled_setup sports 47481 180
tabled_start --sflow-listen 127.0.0.1:47482
check "vnd-tabled collects sFlow" test $? -eq 0
BAD=0
for k in $(seq 1 60 | shuf --random-source=<(yes 3)); do
    port=$(( (k + 1) / 2 )) dir=$([ $((k % 2)) = 1 ] && echo in || echo out)
    api POST /v1/traces "{\"id\":\"s$k\",\"tag\":$k,\"mode\":\"sflow\",\"ifindex\":$port,\"direction\":\"$dir\"}"
    [ "$CODE" = 201 ] || { BAD=$((BAD + 1)); echo "# $BODY"; }
done
check_eq "60 sflow traces, each port's input and output" "$BAD" 0
GONE="3 4 9 20 21 22 33 40 51 60"
BAD=0
for k in $GONE; do
    api DELETE "/v1/traces/s$k"
    [ "$CODE" = 200 ] || [ "$CODE" = 204 ] || BAD=$((BAD + 1))
done
check_eq "10 of them deleted" "$BAD" 0
# input ifIndex -> datagrams of 7 samples (in at i, out at i + 1)
declare -A SENT=([1]=2 [2]=3 [5]=1 [10]=4 [11]=2 [20]=3 [25]=5 [29]=2)
for i in "${!SENT[@]}"; do
    nsx "$SEND" -k sflow -d 127.0.0.1:47482 -n "${SENT[$i]}" -p 1000 -i "$i" -s "$i" >/dev/null
done
# trace s<k>: port (k+1)/2, odd k "in", even k "out"
want=
for k in $(seq 1 60); do
    [[ " $GONE " == *" $k "* ]] && continue
    port=$(( (k + 1) / 2 ))
    # a trace of a port's output (the VM's: "out") takes what enters the
    # switch there, the sample's input; of its input ("in") what leaves
    if [ $((k % 2)) = 0 ]; then n=${SENT[$port]:-0}; else n=${SENT[$((port - 1))]:-0}; fi
    want="$want s$k=$((n * 7))"
done
want=$(tr ' ' '\n' <<<"$want" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
stored() {
    api GET /v1/traces
    jq -r '[.traces[] | "\(.id)=\(.stored)"] | sort | join(" ")' <<<"$BODY"
}
for _ in $(seq 50); do [ "$(stored)" = "$want" ] && break; sleep 0.2; done
check_eq "each live trace stored exactly its port's samples, in its direction" "$(stored)" "$want"

# the agent samples port 25 1 in 2 from now: s50 keeps 1 in 2 of the
# (1-in-1) samples flowsend sends, once each
api PATCH /v1/traces/s50 "{\"sampling\": 2, \"from_ts\": $(date +%s.%N), \"reason\": \"test\"}"
check_eq "the agent's rate for s50: 200" "$CODE" 200
nsx "$SEND" -k sflow -d 127.0.0.1:47482 -n 20 -p 1000 -i 25 -s 99 >/dev/null
one() {
    api GET /v1/traces/s50
    jq -r .stored <<<"$BODY"
}
for _ in $(seq 50); do [ "$(one)" = $((35 + 70)) ] && break; sleep 0.2; done
check_eq "s50 then kept 70 of 140 samples, each once" "$(one)" $((35 + 70))
done_testing
