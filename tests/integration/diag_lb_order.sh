#!/usr/bin/env bash
# diag_lb_order.sh — `vnd diag correlate --by order` (paper §3.5 case 3)
# against ground truth: the split-connection balancer model (`vnd demo lb
# --generate-only`) writes FE.pcap (client side), BE.pcap (backend side)
# and pairs.csv (which client connection became which backend
# connection); `vnd parse` stores them; correlate pairs them by order.
# Per parameter set and seed: every client connection is listed once, in
# the truth's order; every pair the method can promise (the balancer
# opened the backend connection in the order it accepted the client) is
# right; and the wrong pairs are exactly the connections the balancer
# opened out of order.  Sets: one accept loop (the paper's assumption) with
# overlapping handshakes, 4-tuples used again, SYNs dropped and resent,
# many backends; a thread per connection with small and large jitter.
source "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/vnd-lb-order.XXXXXX)
trap 'rm -rf "$T"' EXIT

truth() { awk -v k="$2" '$1 == k { print $2 }' "$1/truth.txt"; }

# run_set NAME ORDER CHECK ARGS...: ORDER is "loop" (one accept loop: the
# balancer keeps accept order, so only ACKs whose stored times tie may be
# taken in another order), "some" (a thread per connection that must
# reorder some) or "any"; CHECK a truth key that must be above zero (or -).
run_set() {
    local name=$1 want_re=$2 must=$3; shift 3
    local D=$T/$name
    mkdir -p "$D"
    if ! "$VND" demo lb --generate-only --dir "$D" "$@" >"$D/gen.log" 2>&1; then
        not_ok "$name: generate: $(tail -1 "$D/gen.log")"; return
    fi
    if ! "$VND" parse -q -o "$D/t.db" "FE=$D/FE.pcap" "BE=$D/BE.pcap"; then
        not_ok "$name: parse"; return
    fi
    if ! "$VND" diag correlate -d "$D/t.db" --in FE --out BE --by order -f csv >"$D/got.csv" 2>"$D/err"; then
        not_ok "$name: correlate failed: $(cat "$D/err")"; return
    fi
    local conns re
    conns=$(truth "$D" connections); re=$(truth "$D" reordered)
    if [ "$must" != - ]; then
        local v; v=$(truth "$D" "$must")
        if [ "${v:-0}" -gt 0 ]; then ok "$name: the captures have $must ($v)"
        else not_ok "$name: the model made no $must: the set does not test what it claims"; fi
    fi
    case $want_re in
    some) if [ "$re" -gt 0 ]; then ok "$name: the balancer opened $re of $conns connections out of order"
          else not_ok "$name: the balancer opened none out of order: the set does not test reordering"; fi ;;
    loop) check_eq "$name: out of order only where ACK times tie as stored ($(truth "$D" ack_ties) tied)" \
              "$(truth "$D" reordered_untied)" 0 ;;
    esac
    # compare row n of correlate with line n of the truth
    local report
    report=$(awk -F, '
        NR == FNR { if (FNR > 1) { tin[$1] = $2; tout[$1] = $3; trank[$1] = $4; n = $1 } next }
        FNR == 1 { next }
        { rows++
          if ($2 == "") { extra++; next }
          if ($2 != tin[$1]) { order++; if (shown++ < 5) print "#   row " $1 ": client connection " $2 ", truth " tin[$1]; next }
          seen[$1] = 1; certain += $7
          if ($4 == tout[$1]) { right++; if (trank[$1] != $1) lucky++ }
          else { wrong++; if ($7 == 1) wrong_certain++
                 if (trank[$1] == $1) { broken++; if (shown++ < 5) print "#   row " $1 ": " $2 " paired with " $4 ", truth " tout[$1] " (a pair the method promises)" }
                 else reord++ } }
        END { for (k = 1; k <= n; k++) if (!(k in seen) && tin[k] != "") missing++
              printf "%d %d %d %d %d %d %d %d %d %d\n", rows, right, wrong + 0, broken + 0, reord + 0, order + 0, missing + 0, extra + 0, certain + 0, wrong_certain + 0 }' \
        "$D/pairs.csv" "$D/got.csv")
    local rows right wrong broken reord order missing extra certain wrong_certain
    read -r rows right wrong broken reord order missing extra certain wrong_certain < <(echo "$report" | tail -1)
    echo "$report" | grep '^#' | head -10
    check_eq "$name: every client connection listed once, in the truth's order" \
        "order=$order missing=$missing extra=$extra" "order=0 missing=0 extra=0"
    check_eq "$name: pairs the method promises are right ($right of $conns right)" "$broken" 0
    check_eq "$name: wrong pairs are the connections opened out of order" "$wrong" "$reord"
    check_eq "$name: pairs right: all but the $re out of order" "$right" $((conns - re))
    check_eq "$name: every pair marked certain is right ($certain of $conns certain)" "$wrong_certain" 0
}

# one accept loop: handshakes overlap (client delays 0.1-50 ms), busy balancer
run_set overlap loop - --seed 11 --conns 2000 --rate 800 --client-delay 0.0001,0.05 --lb-jitter 0.001
run_set defaults loop - --seed 1
# few ports per client and per backend: each 4-tuple carries many connections
run_set port-reuse loop client_port_reuses --seed 3 --conns 1500 --clients 5 --port-range 16 \
    --lb-port-range 8 --rate 500
run_set lb-port-reuse loop lb_port_reuses --seed 4 --conns 800 --backends 2 --lb-port-range 6 --rate 400
# SYNs dropped after the capture point and resent with the same ISN
run_set syn-drop loop syn_drops --seed 5 --conns 600 --syn-drop 0.25 --backends 9
# a thread per connection: SYNs leave in ACK time + delay order
run_set threaded-calm any - --seed 6 --threaded --rate 50 --lb-jitter 0.0002
run_set threaded-jitter some - --seed 7 --threaded --rate 300 --lb-jitter 0.01
done_testing
