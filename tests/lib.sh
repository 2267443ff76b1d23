# lib.sh — helpers for shell tests: TAP lines, temp dirs, skips.
# Source it; set VND (path to the vnd binary) before. Each test script
# prints "ok N - ..." / "not ok N - ..." lines; tests/run.sh counts them.
T_N=0
T_FAILED=0
ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N - $* # SKIP"; }
# check DESC CMD...: runs CMD, ok when it exits 0.  Returns 1 when it
# failed, so that `check ... || { print what explains it; }` runs.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; return 1; fi; }
# check_eq DESC GOT WANT
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi
}
done_testing() { echo "# $T_N checks, $T_FAILED failed"; [ "$T_FAILED" -eq 0 ]; }
CORPUS=${CORPUS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/corpus}
# bed_lock: one OVS test bed at a time on a machine (the userspace
# datapath's ovs-netdev device is shared): holds /tmp/vnd-ovs-bed.lock on
# fd 9 until the script exits.  Start daemons with 9>&- so that they never
# keep it.  Returns 1 when it was not free within 600 s.
bed_lock() { exec 9>>/tmp/vnd-ovs-bed.lock; flock -w 600 9; }
# listening NS PORT: something listens on TCP PORT in namespace NS.
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .; }
# throughput_total CSV: the bytes of `vnd diag throughput -f csv` (1-s
# slots) summed over its slots, and when it has bps_low and bps_high the
# total's 95% half-width in bytes from the slots' (independent): "B H".
throughput_total() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $1 !~ /^#/ { b += $c["bytes"]; if ("bps_high" in c) { h = ($c["bps_high"] - $c["bps"]) / 8; v += h * h } }
        END { printf "%.0f %.0f\n", b, sqrt(v) }' "$1"
}

# iperf3_server NS [PORT]: a one-off iperf3 server (-s -1) in namespace NS,
# started once the port is free (the last one-off server may still hold it
# a moment after its client ended) and returned from once it listens, so
# that a client started next finds it even on a loaded machine.  Its pid is
# in IPERF_SRV; returns 1 (and says why) when it did not come up in 5 s.
iperf3_server() {
    local ns=$1 port=${2:-5201} i
    for i in $(seq 50); do listening "$ns" "$port" || break; sleep 0.1; done
    ip netns exec "$ns" iperf3 -s -1 -p "$port" >/dev/null 2>&1 9>&- &
    IPERF_SRV=$!
    for i in $(seq 50); do
        listening "$ns" "$port" && return 0
        kill -0 "$IPERF_SRV" 2>/dev/null || break
        sleep 0.1
    done
    echo "# iperf3 server in $ns did not listen on port $port"
    return 1
}
