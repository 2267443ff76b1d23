#!/usr/bin/env bash
# tshark_diff.sh — the decoder against tshark, packet by packet, over the
# tcpdump test-suite captures in ${CORPUS}/tcpdump.
#
# The captures are grouped by link type and concatenated (mergecap -a), so
# tshark and `vnd parse` run once per link type rather than once per file:
# the whole corpus takes a few seconds instead of minutes.  For each packet
# we compare, where either side has a value:
#   ip.src, ip.dst, ip.proto (IPv4, and IPv6 without extension headers),
#   ip.id (IPv4), tcp.src/dst, tcp.seq/ack (tshark's *_raw), udp.src/dst,
#   payload.len (tshark tcp.len, or udp.length - 8).
# tshark lists every layer's value outer-first ("a,b"); vnd keeps the
# innermost, so we take the element of the innermost layer vnd decodes:
# the last IP and L4 header before any ICMP (what follows ICMP is the
# quoted packet of an error, which vnd leaves undecoded).  See
# docs/tshark-differences.md for what disagrees and why, and for the
# threshold.
#
# Environment: CORPUS (tests/lib.sh), TSHARK_DIFF_MIN (percent on real
# captures, default 99), TSHARK_DIFF_MIN_ALL (percent with the crafted
# ones, default 90), TSHARK_DIFF_SHOW (disagreements listed, default 15),
# KEEP=1 keeps the work folder.
source "$(dirname "$0")/../lib.sh"

MIN=${TSHARK_DIFF_MIN:-99}
MIN_ALL=${TSHARK_DIFF_MIN_ALL:-90}
# Captures of crafted, deliberately broken packets, by the names the
# tcpdump suite gives them.
CRAFTED='oobr|overflow|asan|segv|seg-fault|invalid|bogus|crash|fuzz|cve-|malformed|truncat|bad-|heap|underflow|-ub|leftshift|zlip|kday|_39_byte|segfault|nfs_large|rip_error|lwres_with_extra|babel_update|hoobr|esp_truncated' 
SHOW=${TSHARK_DIFF_SHOW:-15}
DIR="$CORPUS/tcpdump"

if [ ! -d "$DIR" ]; then skip "no corpus at $DIR"; done_testing; exit; fi
for t in tshark capinfos mergecap; do
    if ! command -v $t >/dev/null; then skip "$t not installed"; done_testing; exit; fi
done

TMP=$(mktemp -d /tmp/vnd-tshark-diff.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT; [ -n "${KEEP:-}" ] && echo "# keeping $TMP"

# Link types (tshark's encapsulation names) that vnd decodes, and the
# trace id each group gets.
ENCAPS="ether linux-sll linux-sll2 null loop rawip rawip4 rawip6"

# 1. Group the captures: name, encapsulation, packets.  Unreadable files
#    (the suite has deliberately broken ones) are left out by capinfos.
(cd "$DIR" && capinfos -T -r -E -c -- *.pcap *.pcapng 2>/dev/null) >"$TMP/files.tsv"
traces=()
for e in $ENCAPS; do
    awk -F'\t' -v e="$e" '$2 == e && $3 > 0 { print $1 }' "$TMP/files.tsv" >"$TMP/$e.list"
    [ -s "$TMP/$e.list" ] || continue
    # mergecap stops at the first file it cannot read; drop such files one by one
    for _ in 1 2 3 4 5; do
        if (cd "$DIR" && xargs -d '\n' mergecap -a -F pcap -w "$TMP/$e.pcap" <"$TMP/$e.list") \
               2>"$TMP/$e.merr"; then
            break
        fi
        bad=$(grep -o '"[^"]*"' "$TMP/$e.merr" | head -1 | tr -d '"')
        bad=${bad##*/}
        [ -n "$bad" ] && grep -qxF "$bad" "$TMP/$e.list" || break
        echo "# $e: leaving out $bad ($(head -1 "$TMP/$e.merr"))"
        grep -vxF "$bad" "$TMP/$e.list" >"$TMP/$e.list2"; mv "$TMP/$e.list2" "$TMP/$e.list"
    done
    [ -s "$TMP/$e.pcap" ] || continue
    # per-file packet counts, to name the file a disagreeing packet came from
    awk -F'\t' 'NR == FNR { keep[$1] = 1; next } ($1 in keep) { print $1 "\t" $3 }' \
        "$TMP/$e.list" "$TMP/files.tsv" >"$TMP/$e.counts"
    traces+=("$e")
done
if [ ${#traces[@]} -eq 0 ]; then skip "no capture of a supported link type"; done_testing; exit; fi

# 2. Our side: one vnd parse over every group, a table per group.
cat >"$TMP/parse.conf" <<'EOF'
Trace ID all
Fields: ip.version as ver, ip.src as src, ip.dst as dst, ip.proto as proto, ip.id as ipid,
        tcp.src as tsport, tcp.dst as tdport, tcp.seq as seq, tcp.ack as ack,
        udp.src as usport, udp.dst as udport, payload.len as plen
EOF
args=()
for e in "${traces[@]}"; do args+=("t_${e//-/_}=$TMP/$e.pcap"); done
"$VND" parse -c "$TMP/parse.conf" -o "$TMP/vnd.db" "${args[@]}" >"$TMP/parse.log" 2>&1
rc=$?
# 3: a capture ends inside a record; what came before it is stored
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
    not_ok "vnd parse failed ($rc): $(tail -3 "$TMP/parse.log")"; done_testing; exit
fi
ok "vnd parse of ${#traces[@]} link-type groups"

# 3. tshark's side, and the comparison, group by group.
cat >"$TMP/cmp.awk" <<'AWK'
# Element i (1-based) of a comma list, "" when absent.
function elem(list, i,    a, n) {
    if (i < 1) return ""
    n = split(list, a, ",")
    return i <= n ? a[i] : ""
}
function hexval(s,    v, i, c) {
    if (s == "") return ""
    s = tolower(s); sub(/^0x/, "", s); v = 0
    for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)); v = v * 16 + c - 1 }
    return v
}
# Where packet n (1-based, of the merged file) came from.
function fileof(n,    i) {
    for (i = 1; i <= nfiles; i++) if (n <= fend[i]) return i
    return 0
}
function origin(n,    i) {
    i = fileof(n)
    return i ? fname[i] "#" (n - fend[i - 1]) : "?#" n
}
# "crafted" for the suite's deliberately broken packets (files named after
# the bug they once triggered in tcpdump), "real" for the rest.
function class(n,    i) {
    i = fileof(n)
    return i && fname[i] ~ CRAFTED ? "crafted" : "real"
}
function cmp(field, want, got, n, chain,    c) {
    if (want == "" && got == "") return
    c = class(n)
    total[field, c]++
    if (want == got) { agree[field, c]++; return }
    bad = 1
    # one line per disagreement: field, where, tshark, vnd, tshark's layers
    printf "D\t%s\t%s:%s\t%s\t%s\t%s\n", field, group, origin(n), want, got, chain
}
FILENAME == ARGV[1] { nfiles++; fname[nfiles] = $1; fend[nfiles] = fend[nfiles - 1] + $2; next }
FILENAME == ARGV[2] { for (i = 1; i <= 17; i++) ts[FNR, i] = $i; next }
FNR == 1 { FS = ","; $0 = $0; next }     # the CSV header
{
    n = FNR - 1
    chain = ts[n, 1]
    # Walk tshark's layers as far as vnd follows them: through IP-in-IP,
    # VXLAN/Geneve over UDP, GRE carrying Ethernet/IP/ERSPAN; not past
    # TCP, other UDP payloads, ICMP (the quoted packet of an error) or
    # anything else.  Count IP and L4 headers on the way.
    k = split(chain, layer, ":")
    n4 = n6 = nt = nu = 0; ipk = l4 = ""; ext6 = 0; stop = 0
    for (i = 1; i <= k; i++) {
        p = layer[i]; nx = layer[i + 1]; stop = i
        if (p == "ip") { n4++; ipk = 4; ext6 = 0; l4 = "" }
        else if (p == "ipv6") { n6++; ipk = 6; ext6 = 0; l4 = "" }
        else if (p ~ /^ipv6\./ || p == "ah") ext6 = 1
        else if (p == "erspan" && nx != "eth" && nx != "ip" && nx != "ipv6") break   # tshark too stops
        else if (p == "vxlan" || p == "geneve" || p == "erspan" || p == "nsh" || p == "mpls" \
                 || p == "ieee8021ah" || p == "cfp" || p ~ /^pweth/ \
                 || (p == "gre" && nx == "eth")) {
            ipk = l4 = ""      # the inner packet's own headers follow
        }
        else if (p == "gre") {
            if (nx == "erspan") continue      # the carrier stays until erspan shows a frame
            if (nx != "ip" && nx != "ipv6" && nx != "mpls" && nx != "nsh" && nx != "cmd") { l4 = "gre"; break }
            ipk = ""
        }
        else if (p == "tcp") { nt++; l4 = "tcp"; break }
        else if (p == "udp") {
            nu++; l4 = "udp"
            if (nx != "vxlan" && nx != "geneve" && nx != "nsh" && nx != "mpls") break
        }
        else if (p == "icmp" || p == "icmpv6") { l4 = p; break }
        else if (p == "pppoes" && nx == "ppp") { i++ }
        else if (p != "eth" && p != "ethertype" && p != "vlan" && p != "sll" && p != "null" \
                 && p != "raw" && p != "llc" && p != "ieee8021ad" && p != "etag" && p != "vntag" \
                 && p != "cmd") {
            if (ipk != "") break     # an IP payload vnd does not decode
            # a link-layer header vnd does not know: nothing of it decoded
            ipk = l4 = ""; break
        }
    }
    # An encapsulation vnd does not read: tshark found an inner packet
    # past the layer where the walk stopped (not after TCP, whose payload
    # is an application's, nor after ICMP, whose is a quoted packet).
    unread = ""
    if (stop < k && l4 != "tcp" && l4 != "icmp" && l4 != "icmpv6")
        for (j = stop + 1; j <= k; j++)
            if (layer[j] == "ip" || layer[j] == "ipv6" || layer[j] == "eth") {
                unread = l4 == "udp" ? "udp:" layer[stop + 1] : layer[stop]; break
            }
    bad = 0
    if (ipk == 4) {
        src = elem(ts[n, 2], n4); dst = elem(ts[n, 3], n4)
        proto = elem(ts[n, 4], n4); ipid = hexval(elem(ts[n, 5], n4))
    } else if (ipk == 6) {
        src = elem(ts[n, 6], n6); dst = elem(ts[n, 7], n6)
        proto = ext6 ? "" : elem(ts[n, 8], n6); ipid = ""
    } else src = dst = proto = ipid = ""
    tsp = tdp = seq = ack = usp = udp = plen = ""
    if (l4 == "tcp") {
        tsp = elem(ts[n, 9], nt); tdp = elem(ts[n, 10], nt)
        seq = elem(ts[n, 11], nt); ack = elem(ts[n, 12], nt); plen = elem(ts[n, 13], nt)
    } else if (l4 == "udp") {
        usp = elem(ts[n, 14], nu); udp = elem(ts[n, 15], nu)
        ul = elem(ts[n, 16], nu); plen = ul != "" && ul >= 8 ? ul - 8 : ""
    }
    # ours: ver,src,dst,proto,ipid,tsport,tdport,seq,ack,usport,udport,plen
    cmp("ip.src", src, $2, n, chain); cmp("ip.dst", dst, $3, n, chain)
    if (ipk == 4 || (ipk == 6 && !ext6)) cmp("ip.proto", proto, $4, n, chain)
    if (ipk != 6) cmp("ip.id", ipid, $1 == 4 ? $5 : "", n, chain)
    cmp("tcp.src", tsp, $6, n, chain); cmp("tcp.dst", tdp, $7, n, chain)
    cmp("tcp.seq", seq, $8, n, chain); cmp("tcp.ack", ack, $9, n, chain)
    cmp("udp.src", usp, $10, n, chain); cmp("udp.dst", udp, $11, n, chain)
    # a first fragment's UDP length covers the whole datagram, which vnd
    # does not reassemble: its payload.len is this fragment's share
    mf = ipk == 4 && elem(ts[n, 17], n4) == 1
    if ((l4 == "tcp" || l4 == "udp" || $6 != "" || $10 != "") && !(mf && l4 == "udp"))
        cmp("payload.len", plen, $12, n, chain)
    packets++
    # per packet: every compared field agrees; packets whose
    # encapsulation vnd does not read are counted apart, by that layer
    c = class(n)
    if (unread != "") { uncl[c]++; printf "U\t%s\t%s\t%s\n", c, unread, origin(n) }
    else { ptot[c]++; pagr[c] += !bad }
}
END {
    printf "P\t%d\n", packets
    for (c in ptot) printf "K\t%s\t%d\t%d\n", c, ptot[c], pagr[c]
    for (k in total) { split(k, fc, SUBSEP); printf "T\t%s\t%s\t%d\t%d\n", fc[1], fc[2], total[k], agree[k] }
}
AWK
for e in "${traces[@]}"; do
    tshark -r "$TMP/$e.pcap" -n -T fields -E separator=/t -E occurrence=a -E aggregator=, \
        -o ip.defragment:FALSE -o ipv6.defragment:FALSE -o tcp.desegment_tcp_streams:FALSE \
        -d udp.port==8472,vxlan \
        -e frame.protocols -e ip.src -e ip.dst -e ip.proto -e ip.id \
        -e ipv6.src -e ipv6.dst -e ipv6.nxt \
        -e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw -e tcp.len \
        -e udp.srcport -e udp.dstport -e udp.length -e ip.flags.mf \
        >"$TMP/$e.tshark" 2>"$TMP/$e.tshark.err"
    "$VND" query -d "$TMP/vnd.db" -f csv \
        "SELECT ver, src, dst, proto, ipid, tsport, tdport, seq, ack, usport, udport, plen FROM t_${e//-/_} ORDER BY rowid" \
        >"$TMP/$e.vnd" 2>"$TMP/$e.vnd.err"
    n_t=$(wc -l <"$TMP/$e.tshark"); n_v=$(($(wc -l <"$TMP/$e.vnd") - 1))
    if [ "$n_t" -ne "$n_v" ]; then
        not_ok "$e: tshark has $n_t packets, vnd $n_v"
        continue
    fi
    awk -F'\t' -v group="$e" -v CRAFTED="$CRAFTED" -f "$TMP/cmp.awk" "$TMP/$e.counts" "$TMP/$e.tshark" "$TMP/$e.vnd" \
        >>"$TMP/results"
done

# 4. Agreement per field over all groups: on real captures against the
#    strict threshold, on everything (crafted packets included) against a
#    looser one, so a decoder regression on odd input still shows.
packets=$(awk -F'\t' '$1 == "P" { n += $2 } END { print n + 0 }' "$TMP/results")
echo "# $packets packets from $(cat "$TMP"/*.counts | wc -l) captures (${traces[*]})"
fields="ip.src ip.dst ip.proto ip.id tcp.src tcp.dst tcp.seq tcp.ack udp.src udp.dst payload.len"
for f in $fields; do
    for c in real all; do
        read -r tot agr < <(awk -F'\t' -v f="$f" -v c="$c" '$1 == "T" && $2 == f && (c == "all" || $3 == c) \
                                 { t += $4; a += $5 } END { print t + 0, a + 0 }' "$TMP/results")
        if [ "$tot" -eq 0 ]; then skip "$f ($c): no packet has it"; continue; fi
        min=$MIN; [ $c = all ] && min=$MIN_ALL
        pct=$(awk -v a="$agr" -v t="$tot" 'BEGIN { printf "%.2f", 100 * a / t }')
        line="$f agrees with tshark on $agr of $tot packets of $c captures ($pct%, threshold $min%)"
        if awk -v p="$pct" -v m="$min" 'BEGIN { exit !(p >= m) }'; then ok "$line"; else not_ok "$line"; fi
    done
done

# 4b. Per packet, every compared field at once, over the packets whose
#     encapsulations vnd reads; the others are listed by the layer vnd
#     does not read (docs/decoders.md keeps that list).
PMIN=${TSHARK_DIFF_PKT_MIN:-99.5}
for c in real all; do
    read -r tot agr unr < <(awk -F'\t' -v c="$c" '$1 == "K" && (c == "all" || $2 == c) { t += $3; a += $4 }
                             $1 == "U" && (c == "all" || $2 == c) { u++ }
                             END { print t + 0, a + 0, u + 0 }' "$TMP/results")
    pct=$(awk -v a="$agr" -v t="$tot" 'BEGIN { printf "%.2f", t ? 100 * a / t : 0 }')
    min=$PMIN; [ $c = all ] && min=$MIN_ALL
    line="per packet: $agr of $tot packets of $c captures agree in every field ($pct%, threshold $min%); $unr in encapsulations vnd does not read"
    if awk -v p="$pct" -v m="$min" 'BEGIN { exit !(p >= m) }'; then ok "$line"; else not_ok "$line"; fi
done
if grep -q '^U' "$TMP/results"; then
    echo "# encapsulations vnd does not read (packets, layer):"
    awk -F'\t' '$1 == "U" { c[$3]++ } END { for (k in c) printf "%d\t%s\n", c[k], k }' "$TMP/results" \
        | sort -rn | sed 's/^/#   /'
fi

# 5. What disagrees: by tshark's layer chain, then a few examples.
if grep -q '^D' "$TMP/results"; then
    echo "# disagreements by tshark layers (count, layers):"
    awk -F'\t' '$1 == "D" { c[$6]++ } END { for (k in c) printf "%d\t%s\n", c[k], k }' \
        "$TMP/results" | sort -rn | head -"$SHOW" | sed 's/^/#   /'
    echo "# examples (field, capture#packet, tshark, vnd):"
    awk -F'\t' '$1 == "D" && !seen[$2 $6]++ { printf "%s\t%s\t%s\t%s\n", $2, $3, $4, $5 }' \
        "$TMP/results" | head -"$SHOW" | sed 's/^/#   /'
fi
done_testing
