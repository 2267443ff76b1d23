#!/usr/bin/env bash
# rtt_diff.sh — `vnd diag rtt` against tshark's tcp.analysis.ack_rtt, capture
# by capture, over the real (not crafted) captures of ${CORPUS}/tcpdump of
# the link types vnd decodes that give tshark at least one sample.
#
# Per capture: the number of samples must be equal and their sum agree to
# 1 µs per sample (tshark prints microseconds), except for the captures in
# KNOWN, whose difference docs/tshark-differences.md explains; those must
# still differ exactly as written there, so a change shows.
#
# Environment: CORPUS (tests/lib.sh), KEEP=1 keeps the work folder.
source "$(dirname "$0")/../lib.sh"
DIR="$CORPUS/tcpdump"
if [ ! -d "$DIR" ]; then skip "no corpus at $DIR"; done_testing; exit; fi
for t in tshark capinfos; do
    if ! command -v $t >/dev/null; then skip "$t not installed"; done_testing; exit; fi
done
TMP=$(mktemp -d /tmp/vnd-rtt-diff.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
CRAFTED='oobr|overflow|asan|segv|seg-fault|invalid|bogus|crash|fuzz|cve-|malformed|truncat|bad-|heap|underflow|-ub|leftshift|zlip|kday'
# capture -> "tshark vnd" sample counts, with the reason in the docs
declare -A KNOWN=(
    [ssh.pcap]="27 26"    # Karn: ACKs covering a retransmission give tshark a sample, vnd none
)

(cd "$DIR" && capinfos -T -r -E -- *.pcap *.pcapng 2>/dev/null) \
    | awk -F'\t' '$2 == "ether" || $2 == "linux-sll" || $2 == "linux-sll2" || $2 == "null" \
                  || $2 == "loop" || $2 ~ /^rawip/ { print $1 }' | grep -vE "$CRAFTED" >"$TMP/files"
# tshark's samples per capture (two at a time; kept in /tmp for the next
# build's run: tshark takes seconds per file, and the corpus does not change
# within a run of the suite); those with at least one become a table each
CACHE=/tmp/vnd-rtt-diff.$( (cat "$TMP/files"; tshark --version 2>/dev/null | head -1; echo "$DIR") \
                           | sha256sum | cut -c1-16)
if [ ! -s "$CACHE" ]; then
    # Only a capture with TCP in it can give tshark a sample, and tshark
    # costs ~0.6 s of CPU per file: vnd reads all of them in seconds and
    # names those with a TCP segment (whether vnd reads every packet as
    # tshark does is tshark_diff.sh's question, not this test's).
    j=0; pre=()
    while read -r f; do j=$((j + 1)); pre+=("p$j=$DIR/$f"); printf 'p%d\t%s\n' "$j" "$f"; done \
        <"$TMP/files" >"$TMP/pre.map"
    "$VND" parse -q -o "$TMP/pre.db" "${pre[@]}" 2>/dev/null
    sqlite3 "$TMP/pre.db" "SELECT tbl FROM vnd_meta" | while read -r t; do
        [ "$(sqlite3 "$TMP/pre.db" "SELECT EXISTS (SELECT 1 FROM $t WHERE seq IS NOT NULL)")" = 1 ] \
            && awk -F'\t' -v t="$t" '$1 == t { print $2 }' "$TMP/pre.map"
    done >"$TMP/tcp_files"
    echo "# $(wc -l <"$TMP/tcp_files") of $(wc -l <"$TMP/files") captures have TCP: tshark reads those"
    export DIR
    xargs -a "$TMP/tcp_files" -d '\n' -P 2 -I{} bash -c '
        tshark -r "$DIR/$1" -n -o tcp.desegment_tcp_streams:FALSE -o ip.defragment:FALSE \
            -Y tcp.analysis.ack_rtt -T fields -e tcp.analysis.ack_rtt 2>/dev/null \
            | awk -v f="$1" "{ n++; s += \$1 } END { if (n) printf \"%s\t%d\t%.6f\n\", f, n, s }"
    ' _ {} >"$CACHE.tmp" && mv "$CACHE.tmp" "$CACHE"
fi
i=0; args=()
while read -r f; do
    line=$(awk -F'\t' -v f="$f" '$1 == f' "$CACHE")
    [ -n "$line" ] || continue
    i=$((i + 1))
    printf 't%d\t%s\n' "$i" "$line" >>"$TMP/tshark"
    args+=("t$i=$DIR/$f")
done <"$TMP/files"
if [ "$i" -eq 0 ]; then skip "no capture gives tshark an RTT sample"; done_testing; exit; fi
"$VND" parse -q -o "$TMP/vnd.db" "${args[@]}" 2>"$TMP/parse.err"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then not_ok "vnd parse failed ($rc)"; done_testing; exit; fi

same=0; samples=0; vsamples=0
while IFS=$'\t' read -r t f n s; do
    read -r vn vs < <("$VND" diag rtt -d "$TMP/vnd.db" -t "$t" --slot 1000000000 -f csv 2>/dev/null \
                      | awk -F, 'NR > 1 { n += $2; s += $2 * $3 / 1000 } END { printf "%d %.6f\n", n, s }')
    samples=$((samples + n)); vsamples=$((vsamples + vn))
    if [ -n "${KNOWN[$f]:-}" ]; then
        check_eq "$f: tshark and vnd sample counts as docs/tshark-differences.md explains" \
            "$n $vn" "${KNOWN[$f]}"
        continue
    fi
    if [ "$n" = "$vn" ] && awk -v a="$s" -v b="$vs" -v n="$n" 'BEGIN { d = a - b; exit !(d < 1e-6 * n + 1e-9 && -d < 1e-6 * n + 1e-9) }'; then
        same=$((same + 1))
    else
        not_ok "$f: tshark $n samples summing to $s s, vnd $vn summing to $vs s"
    fi
done <"$TMP/tshark"
ok "rtt: $same of $i captures give the same samples as tshark ($vsamples vnd, $samples tshark samples in all; ${#KNOWN[@]} explained)"
done_testing
