#!/usr/bin/env bash
# ipfix_tshark.sh — the IPFIX / NetFlow v9 reader against tshark's cflow
# dissector on the same messages: golden_ipfix_pcap writes IPFIX messages
# (OVS's template with a variable-length and an enterprise field, an
# options template, templates resent every 10 messages) and NetFlow v9
# packets into a capture and prints VND's reading of each; tshark reads
# the capture (-d udp.port==4739,cflow) and prints its own.  Per
# datagram, every record's octets, packets, addresses, ports, protocol
# input interface and sum of squared lengths must agree, record for record.
source "$(dirname "$0")/../lib.sh"
GEN=${VND_BUILD:-build}/tests/golden_ipfix_pcap
if ! command -v tshark >/dev/null; then skip "tshark not installed"; done_testing; exit; fi
if [ ! -x "$GEN" ]; then not_ok "$GEN is not built (make)"; done_testing; exit 1; fi
TMP=$(mktemp -d /tmp/vnd-ipfix-tshark.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
for seed in 1 2 3; do
    "$GEN" "$TMP/m.pcap" 200 "$seed" >"$TMP/vnd.tsv"
    check "seed $seed: messages written and read by VND" test $? -eq 0
    tshark -r "$TMP/m.pcap" -d udp.port==4739,cflow -d udp.port==2055,cflow -T fields \
        -E aggregator=, -e frame.number -e cflow.octets -e cflow.packets -e cflow.srcaddr \
        -e cflow.dstaddr -e cflow.srcport -e cflow.dstport -e cflow.protocol \
        -e cflow.inputint -e cflow.delta_octets_squared >"$TMP/tshark.tsv" 2>"$TMP/tshark.err"
    check "seed $seed: tshark reads the capture" test $? -eq 0 || sed 's/^/#   /' "$TMP/tshark.err"
    frames=$(wc -l <"$TMP/vnd.tsv")
    records=$(cut -f2 "$TMP/vnd.tsv" | tr ',' '\n' | grep -c .)
    differ=$(diff "$TMP/vnd.tsv" "$TMP/tshark.tsv" | grep -c '^<')
    echo "# seed $seed: $frames datagrams, $records records decoded by VND, $differ datagrams differ"
    check "seed $seed: records in most datagrams ($records)" test "$records" -gt "$frames"
    check "seed $seed: every datagram's records agree with tshark's" test "$differ" -eq 0 \
        || diff "$TMP/vnd.tsv" "$TMP/tshark.tsv" | head -6 | cut -c1-200 | sed 's/^/#   /'
done
done_testing
