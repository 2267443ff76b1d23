#!/usr/bin/env bash
# collector_bench.sh — VND's sFlow and IPFIX collectors beside the peers
# operators use, on the same replayed datagrams over loopback, in one run:
#   sFlow v5: vnd-tabled --sflow-listen   vs  pmacct's sfacctd (SQLite plugin)
#   IPFIX:    vnd-tabled --ipfix-listen   vs  pmacct's nfacctd (SQLite plugin)
#                                         and nfdump's nfcapd (its flow files)
# bench/flowsend sends the datagrams (sFlow: 7 samples of 128-byte headers
# each, IPFIX: 16 records of OVS's template each, about 1400 bytes, as OVS
# fills them; 16 datagrams to a sendmmsg call, so that the sender takes
# less of the two cores than the collector it feeds).  Two figures per
# collector:
#   flat out    DATAGRAMS (300,000: two seconds or so, so that the end of
#               a run weighs little) sent as fast as the socket takes them;
#               records/s = the records it stored / the time from the first
#               send until its socket is empty and its CPU idle (read every
#               0.05 s, idle for 0.6 s; best of 3); CPU
#               s per million records stored (every process and thread of
#               it, user + system); sys %: the kernel's part of that CPU
#               (the copy of each datagram, the writes of what it keeps);
#               lost: datagrams the kernel dropped on its full socket
#               (/proc/net/udp "drops" of its port)
#   no loss     the highest offered rate, stepped up from 25,000 datagrams/s,
#               at which it stored every record of 2 s of datagrams (the
#               sender keeping to the rate): what a collector takes without
#               losing any, the figure an operator sizes it by; "+": it
#               lost none at any rate offered (the sender kept to a rate
#               within 5% beside it, up to the last step): the limit found
#               is the sender's, not the collector's
# "Stored" is what the collector's own output holds: VND's rows of a
# queryable trace table (IPFIX's packed: blocks of rows, src/store/packed.h,
# read with the extension vnd_packed.so), nfcapd's flows (nfdump -I), pmacct's table
# counted by the packets it sums (it aggregates by the 5-tuple into its
# SQLite table each second), in records.  Every socket asks for 8 MB
# (what net.core.rmem_max allows is the same for all).
#
#   bench/collector_bench.sh [DATAGRAMS] [BUILD]     (root: apt-get for the peers)
#   VERBOSE=1: every step of the no-loss search; RATES="...": its steps;
#   KINDS="sflow" or "ipfix": one protocol's collectors only
set -u
N=${1:-300000}
B=${2:-build}
RUNS=${RUNS:-3}
cd "$(dirname "$0")/.."
SEND=$B/bench/flowsend
TABLED=$B/vnd-tabled
for f in "$SEND" "$TABLED" "$B/vnd_packed.so"; do
    [ -x "$f" ] || { echo "collector_bench: $f is not built (make)" >&2; exit 1; }
done
if ! command -v sfacctd >/dev/null || ! command -v nfcapd >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q pmacct nfdump >/dev/null 2>&1 \
            || echo "# collector_bench: could not install pmacct and nfdump; peers skipped"
    else
        echo "# collector_bench: pmacct/nfdump not installed and not root: peers skipped"
    fi
fi
W=$(mktemp -d /tmp/vnd-collector-bench.XXXXXX)
PIDS=()
# stops a collector this script started and the processes it forked
# (pmacct's plugins), by their ids
stop() {
    local p t
    t=$(tree "$1")
    for p in $t; do kill -INT "$p" 2>/dev/null; done
    for _ in $(seq 20); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    for p in $t; do kill -KILL "$p" 2>/dev/null; done
    wait "$1" 2>/dev/null
}
cleanup() {
    for p in "${PIDS[@]}"; do stop "$p"; done
    rm -rf "$W"
}
trap cleanup EXIT
CLK=$(getconf CLK_TCK)

# the process and its descendants
tree() {
    local p=$1 c
    echo "$p"
    for c in $(pgrep -P "$p" 2>/dev/null); do tree "$c"; done
}
# CPU ticks (user + system; with a second argument "sys", system alone)
# of the tree of $1
cpu() {
    local t=0 p s f='$14 + $15'
    [ "${2:-}" = sys ] && f='$15'
    for p in $(tree "$1"); do
        s=$(awk "{print $f}" "/proc/$p/stat" 2>/dev/null) && t=$((t + s))
    done
    echo "$t"
}
# "rx_queue drops" of the UDP socket bound to port $1
udp() {
    local hex q d
    hex=$(printf '%04X' "$1")
    read -r q d < <(awk -v h=":$hex" '$2 ~ h"$" {split($5, q, ":"); print q[2], $NF; exit}' /proc/net/udp)
    [ -n "${q:-}" ] && echo "$((16#$q)) $d"
}
bound() {
    local i
    for i in $(seq 100); do [ -n "$(udp "$1")" ] && return 0; sleep 0.05; done
    return 1
}
now() { date +%s.%N; }

settled() {
    local a b
    a=$("$@")
    for _ in $(seq 20); do
        sleep 0.5
        b=$("$@")
        [ "$a" = "$b" ] && break
        a=$b
    done
    echo "$a"
}


# ---- starting a collector, counting what it stored ----

start_vnd() {
    local kind=$1 port=$2 body
    rm -rf "$W"/vnd*
    echo secret-of-the-bench >"$W/secret"
    chmod 600 "$W/secret"
    "$TABLED" --db "$W/vnd.db" --listen "127.0.0.1:$((port + 100))" \
        --secret-file "$W/secret" --"$kind"-listen "127.0.0.1:$port" \
        --log-file "$W/vnd.log" >/dev/null 2>&1 &
    PID=$!
    PIDS+=("$PID")
    bound "$port" || { echo "# vnd-tabled did not listen" >&2; return 1; }
    if [ "$kind" = sflow ]; then
        body='{"id":"bench","tag":1,"mode":"sflow","ifindex":1,"direction":"out"}'
    else
        body='{"id":"bench","tag":1,"mode":"ipfix"}'
    fi
    for _ in $(seq 50); do
        curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer secret-of-the-bench" \
            -d "$body" "http://127.0.0.1:$((port + 100))/v1/traces" | grep -q 201 && return 0
        sleep 0.1
    done
    echo "# vnd-tabled took no trace" >&2
    return 1
}
# IPFIX's table is packed (src/store/packed.h): SQLite's shell reads it
# with the extension VND builds
stored_vnd() {
    settled sqlite3 -readonly -cmd ".load ${B}/vnd_packed" "$W/vnd.db.tenants/default.db" \
        "select count(*) from bench" 2>/dev/null
}

start_pmacct() {
    local daemon=$1 port=$2 p=${1%d}     # sfacct, nfacct
    rm -f "$W/pm.db"
    sqlite3 "$W/pm.db" "CREATE TABLE acct (ip_src CHAR(45) NOT NULL DEFAULT '0.0.0.0',
        ip_dst CHAR(45) NOT NULL DEFAULT '0.0.0.0', src_port INT(4) NOT NULL DEFAULT 0,
        dst_port INT(4) NOT NULL DEFAULT 0, ip_proto CHAR(6) NOT NULL DEFAULT 0,
        packets INT NOT NULL, bytes BIGINT NOT NULL,
        stamp_inserted DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00', stamp_updated DATETIME,
        PRIMARY KEY (ip_src, ip_dst, src_port, dst_port, ip_proto, stamp_inserted))"
    cat >"$W/pm.conf" <<EOF
daemonize: false
${p}d_ip: 127.0.0.1
${p}d_port: $port
${p}d_pipe_size: 8388608
plugin_pipe_size: 67108864
plugin_buffer_size: 65536
plugins: sqlite3
sql_db: $W/pm.db
sql_table: acct
sql_optimize_clauses: true
sql_refresh_time: 1
aggregate: src_host, dst_host, src_port, dst_port, proto
EOF
    "$daemon" -f "$W/pm.conf" >"$W/pm.log" 2>&1 &
    PID=$!
    PIDS+=("$PID")
    bound "$port" || { echo "# $daemon did not listen" >&2; sed 's/^/#   /' "$W/pm.log" | tail -3 >&2; return 1; }
    sleep 0.3
}
# the records its table accounts for: the packets it sums, as a share of
# the packets the records sent counted
stored_pmacct() {
    local pk
    pk=$(settled sqlite3 "$W/pm.db" "select coalesce(sum(packets),0) from acct" 2>/dev/null)
    awk -v p="${pk:-0}" -v s="$PACKETS_SENT" -v r="$RECORDS_SENT" \
        'BEGIN { printf "%.0f\n", s ? r * p / s : 0 }'
}

start_nfcapd() {
    rm -rf "$W/nf"
    mkdir -p "$W/nf"
    nfcapd -b 127.0.0.1 -p "$1" -w "$W/nf" -B 8388608 >"$W/nf.log" 2>&1 &
    PID=$!
    PIDS+=("$PID")
    bound "$1" || { echo "# nfcapd did not listen" >&2; sed 's/^/#   /' "$W/nf.log" | tail -3 >&2; return 1; }
}
stored_nfcapd() { nfdump -R "$W/nf" -I 2>/dev/null | sed -n 's/^Flows: *//p'; }

# start COLLECTOR KIND PORT: sets PID (COLLECTOR: vnd, sfacctd, nfacctd, nfcapd)
start() {
    case $1 in
        vnd) start_vnd "$2" "$3" ;;
        nfcapd) start_nfcapd "$3" ;;
        *) start_pmacct "$1" "$3" ;;
    esac
}
# stored COLLECTOR: the records it stored, and stops it.  nfcapd writes its
# file on exit; pmacct's core holds its last, partly filled buffer
# (plugin_buffer_size) until the next datagrams or its exit, when it hands
# it to the plugin, which writes it: both are counted once stopped.
stored() {
    case $1 in
        vnd) stored_vnd; stop "$PID" ;;
        nfcapd) stop "$PID"; stored_nfcapd ;;
        *)  kill -INT "$PID"
            for _ in $(seq 50); do     # gone, or a zombie until `stop` reaps it
                case $(ps -o stat= -p "$PID" 2>/dev/null) in ""|Z*) break ;; esac
                sleep 0.1
            done
            stored_pmacct; stop "$PID" ;;
    esac
}

# drained PORT: waits until the socket is empty and the collector's CPU has
# been still for 0.6 s (longer than VND's half-second commit, so that the
# commit of its last rows counts); T1 is when it last moved, to 0.05 s (at
# 0.2 s a run of half a second was read 30% wrong either way)
drained() {
    local q last=-1 cur still=0
    T1=$(now)
    for _ in $(seq 2400); do
        read -r q _ < <(udp "$1")
        cur=$(cpu "$PID")
        if [ "${q:-1}" = 0 ] && [ "$cur" = "$last" ]; then
            still=$((still + 1))
            [ "$still" -ge 12 ] && return
        else
            still=0
            T1=$(now)
        fi
        last=$cur
        sleep 0.05
    done
}

# ---- flat out ----
# flat COLLECTOR KIND: $RUNS lines "records/s cpu_s_per_M lost stored sys%"
# (sys%: the kernel's part of that CPU: the datagrams' copies, the writes)
flat() {
    local who=$1 kind=$2 i port d0 d1 c0 c1 s0 s1 t0 out got
    for i in $(seq "$RUNS"); do
        PORT=$((PORT + 1)); port=$PORT
        start "$who" "$kind" "$port" || continue
        read -r _ d0 < <(udp "$port")
        c0=$(cpu "$PID")
        s0=$(cpu "$PID" sys)
        t0=$(now)
        out=$("$SEND" -k "$kind" -d "127.0.0.1:$port" -n "$N" -i 1 -s 7) || { stop "$PID"; continue; }
        read -r _ RECORDS_SENT _ PACKETS_SENT <<<"$out"
        drained "$port"
        read -r _ d1 < <(udp "$port")
        # what it does after (VND's last commit, pmacct's next write each
        # second) is its work too: the CPU is read once that is surely over
        sleep 1.5
        c1=$(cpu "$PID")
        s1=$(cpu "$PID" sys)
        got=$(stored "$who")
        awk -v g="${got:-0}" -v t0="$t0" -v t1="$T1" -v c="$((c1 - c0))" -v k="$CLK" \
            -v l="$((d1 - d0))" -v sy="$((s1 - s0))" \
            'BEGIN { printf "%.0f %.2f %d %d %.0f\n", g / (t1 - t0), (g ? c / k / g * 1e6 : 0), l, g,
                            (c ? 100 * sy / c : 0) }'
    done
}

# ---- the highest rate without loss ----
# noloss COLLECTOR KIND: the records/s of the highest of RATES (datagrams/s)
# at which it stored every record; 0 when it lost some at the lowest; a
# "+" when it lost none at any rate offered
noloss() {
    local who=$1 kind=$2 r best=0 out sent secs got mark=+
    for r in $RATES; do
        PORT=$((PORT + 1))
        start "$who" "$kind" "$PORT" || break
        out=$("$SEND" -k "$kind" -d "127.0.0.1:$PORT" -n "$((r * 2))" -p "$r" -i 1 -s 7) \
            || { stop "$PID"; break; }
        read -r sent RECORDS_SENT secs PACKETS_SENT <<<"$out"
        drained "$PORT"
        sleep 1.2      # pmacct writes its table each second
        got=$(stored "$who")
        echo "#   $who at $r datagrams/s: sent $sent in ${secs} s, stored ${got:-0} of $RECORDS_SENT records" >&2
        # the sender fell behind: this rate and those above were not offered
        awk -v s="$secs" 'BEGIN { exit !(s <= 2.1) }' || break
        [ "${got:-0}" -ge "$RECORDS_SENT" ] || { mark=; break; }
        best=$((RECORDS_SENT / 2))
    done
    echo "$best$mark"
}

# best: the best of the runs on stdin (highest records/s)
best() { sort -k1,1nr | head -1; }

row() { printf '%-28s %10s %8s %6s %7s %9s %14s\n' "$@"; }

RATES=${RATES:-"25000 50000 75000 100000 125000 150000 175000 200000"}
KINDS=${KINDS:-"sflow ipfix"}
echo "# collector_bench: $N datagrams flat out (best of $RUNS); no loss: 2 s at each of $RATES datagrams/s; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
row collector "records/s" "CPU s/M" "sys %" lost stored "no loss rec/s"
# measure NAME COLLECTOR KIND PORT_BASE (not in a subshell: PIDS must
# reach the cleanup)
measure() {
    local a b c d e
    PORT=$4; flat "$2" "$3" >"$W/r"
    read -r a b c d e < <(best <"$W/r")
    PORT=$(($4 + 50)); noloss "$2" "$3" >"$W/n" 2>"$W/log"
    [ -n "${VERBOSE:-}" ] && cat "$W/log"
    row "$1" "${a:--}" "${b:--}" "${e:--}" "${c:--}" "${d:--}" "$(cat "$W/n")"
}
if [[ " $KINDS " == *" sflow "* ]]; then
    measure "vnd-tabled --sflow-listen" vnd sflow 7600
    if command -v sfacctd >/dev/null; then measure "pmacct sfacctd -> SQLite" sfacctd sflow 7700; fi
fi
if [[ " $KINDS " == *" ipfix "* ]]; then
    measure "vnd-tabled --ipfix-listen" vnd ipfix 7800
    if command -v nfacctd >/dev/null; then measure "pmacct nfacctd -> SQLite" nfacctd ipfix 7900; fi
    if command -v nfcapd >/dev/null; then measure "nfdump nfcapd -> flow files" nfcapd ipfix 8000; fi
fi
