#!/usr/bin/env bash
# diag_accuracy.sh — the diagnostic apps against ground truth, through the
# real chain: the chain model (vnd demo --generate-only) writes A/B/C
# captures and truth.txt, `vnd parse` stores them, `vnd diag` measures.
# Checks, per parameter set: RTT at A, B, C within 2% of the truth (and the
# number of samples within 0.5%); one-hop delay per direction within 2% and
# its packet count exact; loss per hop and direction exact; the bottleneck
# hop named.  With --sack (the clients send SACK blocks), the same, and on
# a table with a sack column RTT within 2% of the SACK truth, its samples
# within 0.5% of it and more than without the column.
source "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/vnd-diag-acc.XXXXXX)
trap 'rm -rf "$T"' EXIT

truth() { awk -v k="$2" '$1 == k { print $2 }' "$1/truth.txt"; }
# within PCT GOT WANT
within() { awk -v p="$1" -v g="$2" -v w="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; m = w < 0 ? -w : w; exit !(d <= p / 100 * m + 1e-9) }'; }

# rtt_at DB X: samples and mean RTT (ms) of the server's data at X
rtt_at() {
    "$VND" diag rtt -d "$1" -t "$2" --slot 1000 --by-flow -f csv |
        awk -F, '$1 ~ /^10\.0\.0\.10:/ { n += $3; s += $3 * $4 } END { printf "%d %.6f\n", n, n ? s / n : 0 }'
}

run_set() {
    local name=$1 want_hop=$2; shift 2
    local D=$T/$name
    mkdir -p "$D"
    if ! "$VND" demo --generate-only --dir "$D" --duration 6 --join 3 "$@" >/dev/null; then
        not_ok "$name: generate"; return
    fi
    if ! "$VND" parse -q -o "$D/t.db" "A=$D/A.pcap" "B=$D/B.pcap" "C=$D/C.pcap"; then
        not_ok "$name: parse"; return
    fi
    local sack=
    case " $* " in *" --sack "*) sack=1 ;; esac
    if [ -n "$sack" ]; then
        # the standard columns and tcp.sack as sack
        printf 'Trace ID all\nFields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip,\n  ip.proto as proto, tcp.src as src_port, tcp.dst as dst_port, tcp.seq as seq,\n  tcp.ack as ack, tcp.flags as flags, payload.len as payload_len, tcp.sack as sack\n' >"$D/sack.conf"
        if ! "$VND" parse -q -c "$D/sack.conf" -o "$D/s.db" "A=$D/A.pcap" "B=$D/B.pcap" "C=$D/C.pcap"; then
            not_ok "$name: parse with sack"; return
        fi
    fi
    local X got n want wn n0
    for X in A B C; do
        read -r n got < <(rtt_at "$D/t.db" "$X")
        want=$(truth "$D" "$X.rtt_ms"); wn=$(truth "$D" "$X.rtt.n")
        if within 2 "$got" "$want"; then ok "$name: RTT at $X $got ms (truth $want)"
        else not_ok "$name: RTT at $X $got ms, truth $want"; fi
        if within 0.5 "$n" "$wn"; then ok "$name: RTT samples at $X $n (truth $wn)"
        else not_ok "$name: RTT samples at $X $n, truth $wn"; fi
        [ -n "$sack" ] || continue
        n0=$n
        read -r n got < <(rtt_at "$D/s.db" "$X")
        want=$(truth "$D" "$X.rtt_sack_ms"); wn=$(truth "$D" "$X.rtt_sack.n")
        if within 2 "$got" "$want"; then ok "$name: RTT with SACK at $X $got ms (truth $want)"
        else not_ok "$name: RTT with SACK at $X $got ms, truth $want"; fi
        if within 0.5 "$n" "$wn"; then ok "$name: RTT samples with SACK at $X $n (truth $wn)"
        else not_ok "$name: RTT samples with SACK at $X $n, truth $wn"; fi
        check "$name: SACK gives more samples at $X ($n > $n0)" test "$n" -gt "$n0"
    done
    # hop, in, out: up = client→server travels in→out, down the other way
    local hop in out dir key
    for hop in "re A B" "ids B C"; do
        set -- $hop
        local h=$1 in=$2 out=$3
        local delay loss
        delay=$("$VND" diag delay -d "$D/t.db" --in "$in" --out "$out" --slot 1000 -f csv)
        loss=$("$VND" diag loss -d "$D/t.db" --in "$in" --out "$out" --slot 1000 -f csv)
        for dir in up down; do
            if [ $dir = up ]; then key="$in>$out"; else key="$out>$in"; fi
            read -r n got < <(echo "$delay" | awk -F, -v k="$key" '$1 == k { print $3, $4 }')
            want=$(truth "$D" "$h.$dir.delay_ms"); wn=$(truth "$D" "$h.$dir.passed")
            if within 2 "${got:-0}" "$want"; then ok "$name: $h $dir delay $got ms (truth $want)"
            else not_ok "$name: $h $dir delay ${got:-none} ms, truth $want"; fi
            check_eq "$name: $h $dir packets matched" "${n:-0}" "$wn"
            got=$(echo "$loss" | awk -F, -v k="$key" '$2 == k { s += $4 } END { print s + 0 }')
            check_eq "$name: $h $dir lost" "$got" "$(truth "$D" "$h.$dir.lost")"
        done
    done
    got=$("$VND" diag bottleneck -d "$D/t.db" --path A,B,C | grep '^bottleneck:' | sed 's/, from.*//')
    check_eq "$name: bottleneck" "$got" "bottleneck: the hop between $want_hop"
}

run_set ids-saturates "B and C" --seed 1
# the RE's random loss keeps TCP below what saturates the IDS: only the RE
# loses packets, so it is the one to name
run_set wrap-jitter-reloss "A and B" --seed 2 --isn 4294000000 --jitter 0.0005 --re-loss 0.002
run_set lossy-re "A and B" --seed 3 --ids-pps 60000 --re-loss 0.01 --turnaround 0.0003
# SACK: random loss at the RE, tail drop at the IDS, the sequence wrapping
run_set sack-lossy "A and B" --seed 4 --ids-pps 60000 --re-loss 0.01 --turnaround 0.0003 --sack
run_set sack-wrap-ids "B and C" --seed 5 --isn 4294000000 --jitter 0.0005 --sack
done_testing
