#!/usr/bin/env bash
# ipfix_points.sh — an IPFIX record finds its trace by its observation
# point among many (capture/ipfix_source.c keeps them sorted and searches:
# a scan of 1,000 traces was half a table server's CPU).  100 ipfix traces
# made in a shuffled order of tags, 30 of them deleted again; records sent
# to 12 points, of live traces and deleted ones: each live trace stores
# exactly its own, a deleted one's are counted as of an unknown point.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
SEND=${VND_BUILD:-build}/bench/flowsend
[ -e "$SEND" ] || { not_ok "$SEND is not built (make)"; done_testing; exit 1; }
tabled_setup points 47471 180
tabled_start --ipfix-listen 127.0.0.1:47472
check "vnd-tabled collects IPFIX" test $? -eq 0
TAGS=$(seq 1 100 | shuf --random-source=<(yes 7))
BAD=0
for t in $TAGS; do
    api POST /v1/traces "{\"id\":\"p$t\",\"tag\":$t,\"mode\":\"ipfix\"}"
    [ "$CODE" = 201 ] || BAD=$((BAD + 1))
done
check_eq "100 ipfix traces, tags in a shuffled order" "$BAD" 0
GONE="5 17 18 19 42 43 44 45 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 99"
BAD=0
for t in $GONE; do
    api DELETE "/v1/traces/p$t"
    [ "$CODE" = 200 ] || [ "$CODE" = 204 ] || BAD=$((BAD + 1))
done
check_eq "30 of them deleted" "$BAD" 0
# point -> messages of 16 records sent to it
declare -A SENT=([1]=3 [4]=5 [5]=2 [16]=4 [20]=6 [41]=1 [46]=7 [59]=2 [70]=3 [81]=5 [99]=2 [100]=4)
for p in "${!SENT[@]}"; do
    nsx "$SEND" -k ipfix -d 127.0.0.1:47472 -n "${SENT[$p]}" -p 1000 -i "$p" -s "$p" >/dev/null
done
want_unknown=0
for p in "${!SENT[@]}"; do
    [[ " $GONE " == *" $p "* ]] && want_unknown=$((want_unknown + SENT[$p] * 16))
done
stored() {
    api GET /v1/traces
    jq -r '[.traces[] | "\(.id)=\(.stored)"] | sort | join(" ")' <<<"$BODY"
}
want=
for t in $(seq 1 100); do
    [[ " $GONE " == *" $t "* ]] && continue
    want="$want p$t=$(( ${SENT[$t]:-0} * 16 ))"
done
want=$(tr ' ' '\n' <<<"$want" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
for _ in $(seq 50); do [ "$(stored)" = "$want" ] && break; sleep 0.2; done
check_eq "each live trace stored exactly the records of its own point" "$(stored)" "$want"
api GET /v1/traces
check_eq "the deleted traces' records: of an unknown point" \
    "$(jq -r '.capture[] | select(.kind == "ipfix") | .unknown_tag' <<<"$BODY")" "$want_unknown"
done_testing
