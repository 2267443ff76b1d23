#!/usr/bin/env bash
# sflow_tshark.sh — the sFlow v5 reader against tshark's sflow dissector
# on the same datagrams: golden_sflow_pcap writes datagrams of flow
# samples (compact and expanded, headers of 14 to 200 bytes) and counter
# samples (compact and expanded) from IPv4 and IPv6 agents into a capture
# and prints VND's reading of each; tshark reads the capture (-d
# udp.port==6343,sflow) and prints its own.  Per datagram, its sequence
# and sample count, and every sample's sequence, sampling rate, pool,
# drops, frame and header lengths, stripped bytes, and every counter
# sample's ifIndex, octets in and out and sequence must agree, sample for
# sample.
source "$(dirname "$0")/../lib.sh"
GEN=${VND_BUILD:-build}/tests/golden_sflow_pcap
if ! command -v tshark >/dev/null; then skip "tshark not installed"; done_testing; exit; fi
if [ ! -x "$GEN" ]; then not_ok "$GEN is not built (make)"; done_testing; exit 1; fi
TMP=$(mktemp -d /tmp/vnd-sflow-tshark.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
for seed in 1 2 3; do
    "$GEN" "$TMP/s.pcap" 200 "$seed" >"$TMP/vnd.tsv"
    check "seed $seed: datagrams written and read by VND" test $? -eq 0
    tshark -r "$TMP/s.pcap" -d udp.port==6343,sflow -T fields -E aggregator=, \
        -e frame.number -e sflow_245.sequence_number -e sflow_245.numsamples \
        -e sflow.flow_sample.sequence_number -e sflow.flow_sample.sampling_rate \
        -e sflow.flow_sample.sample_pool -e sflow.flow_sample.dropped_packets \
        -e sflow_245.header.frame_length -e sflow_245.header.sampled_header_length \
        -e sflow_245.header.payload_stripped -e sflow_245.ifindex -e sflow_245.ifinoct \
        -e sflow_245.ifoutoct -e sflow.counters_sample.sequence_number \
        >"$TMP/tshark.tsv" 2>"$TMP/tshark.err"
    check "seed $seed: tshark reads the capture" test $? -eq 0 || sed 's/^/#   /' "$TMP/tshark.err"
    frames=$(wc -l <"$TMP/vnd.tsv")
    flows=$(cut -f4 "$TMP/vnd.tsv" | tr ',' '\n' | grep -c .)
    counters=$(cut -f11 "$TMP/vnd.tsv" | tr ',' '\n' | grep -c .)
    differ=$(diff "$TMP/vnd.tsv" "$TMP/tshark.tsv" | grep -c '^<')
    echo "# seed $seed: $frames datagrams, $flows flow and $counters counter samples read by VND, $differ datagrams differ"
    check "seed $seed: flow samples ($flows) and counter samples ($counters) in the datagrams" \
        test "$flows" -gt "$frames" -a "$counters" -gt $((frames / 2))
    check "seed $seed: every datagram's samples agree with tshark's" test "$differ" -eq 0 \
        || diff "$TMP/vnd.tsv" "$TMP/tshark.tsv" | head -6 | cut -c1-200 | sed 's/^/#   /'
done
done_testing
