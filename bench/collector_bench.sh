#!/usr/bin/env bash
# collector_bench.sh — VND's sFlow and IPFIX collectors beside the peers
# operators use, on the same replayed datagrams over loopback, in one run:
#   sFlow v5: vnd-tabled --sflow-listen   vs  pmacct's sfacctd (SQLite plugin)
#   IPFIX:    vnd-tabled --ipfix-listen   vs  pmacct's nfacctd (SQLite plugin)
#                                         and nfdump's nfcapd (its flow files)
# bench/flowsend sends DATAGRAMS datagrams as fast as the socket takes them
# (sFlow: 7 samples of 128-byte headers each, IPFIX: 16 records of OVS's
# template each, about 1400 bytes, as OVS fills them).  Per collector:
#   records/s   records the collector got / the time from the first send
#               until its socket is empty and its CPU idle
#   CPU s/M     its CPU seconds (every process and thread of it, user +
#               system) per million records got
#   lost        datagrams the kernel dropped on its full socket
#               (/proc/net/udp "drops" of its port)
# Best of 3 runs (the highest records/s); every socket asks for 8 MB
# (what net.core.rmem_max allows is the same for all).  VND writes every
# record as a row of a queryable trace table (checked: the rows are
# counted); pmacct aggregates by the 5-tuple into its SQLite table each
# second; nfcapd writes binary flow files.
#
#   bench/collector_bench.sh [DATAGRAMS] [BUILD]     (root: apt-get for the peers)
set -u
N=${1:-20000}
B=${2:-build}
RUNS=${RUNS:-3}
cd "$(dirname "$0")/.."
SEND=$B/bench/flowsend
TABLED=$B/vnd-tabled
for f in "$SEND" "$TABLED"; do
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
PORT=7690

# the process and its descendants
tree() {
    local p=$1 c
    echo "$p"
    for c in $(pgrep -P "$p" 2>/dev/null); do tree "$c"; done
}
# CPU ticks (user + system) of the tree of $1
cpu() {
    local t=0 p s
    for p in $(tree "$1"); do
        s=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) && t=$((t + s))
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

# measure NAME KIND PID PORT: sends, waits for the collector to finish,
# prints "records/s cpu_s_per_M lost records"; PACKETS_SENT is left for
# the caller.
measure() {
    local kind=$2 pid=$3 port=$4 d0 d1 c0 c1 t0 t1 out sent recs q last cur
    read -r _ d0 < <(udp "$port")
    c0=$(cpu "$pid")
    t0=$(now)
    out=$("$SEND" -k "$kind" -d "127.0.0.1:$port" -n "$N" -i 1 -s 7) || return 1
    read -r sent recs _ PACKETS_SENT <<<"$out"
    # drained: its socket empty and its CPU still for 0.2 s
    last=-1
    for _ in $(seq 600); do
        read -r q _ < <(udp "$port")
        cur=$(cpu "$pid")
        if [ "${q:-1}" = 0 ] && [ "$cur" = "$last" ]; then break; fi
        last=$cur
        t1=$(now)
        sleep 0.2
    done
    read -r _ d1 < <(udp "$port")
    # what it does after (VND's last commit, pmacct's next write each
    # second) is its work too: the CPU is read once that is surely over
    sleep 1.5
    c1=$(cpu "$pid")
    local lost=$((d1 - d0)) per=$((recs / sent))
    local got=$(( (sent - lost) * per ))
    awk -v g="$got" -v t0="$t0" -v t1="$t1" -v c="$((c1 - c0))" -v k="$CLK" -v l="$lost" \
        'BEGIN { printf "%.0f %.2f %d %d\n", g / (t1 - t0), (g ? c / k / g * 1e6 : 0), l, g }'
}

# best NAME: the best of $RUNS lines on stdin (highest records/s)
best() { sort -k1,1nr | head -1; }

row() { local a=$1 b=$2 c=$3 d=$4 e=$5; shift 5; printf '%-30s %10s %8s %7s %9s  %s\n' "$a" "$b" "$c" "$d" "$e" "$*"; }
# settled CMD...: its output once two reads 0.5 s apart agree (at most 10 s)
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

vnd_run() {
    local kind=$1 i port=$PORT
    for i in $(seq "$RUNS"); do
        port=$((port + 1))
        rm -rf "$W"/vnd*
        echo secret-of-the-bench >"$W/secret"
        chmod 600 "$W/secret"
        "$TABLED" --db "$W/vnd.db" --listen "127.0.0.1:$((port + 100))" \
            --secret-file "$W/secret" --"$kind"-listen "127.0.0.1:$port" \
            --log-file "$W/vnd.log" >/dev/null 2>&1 &
        local pid=$!
        PIDS+=("$pid")
        bound "$port" || { echo "# vnd-tabled did not listen"; continue; }
        local body
        if [ "$kind" = sflow ]; then
            body='{"id":"bench","tag":1,"mode":"sflow","ifindex":1,"direction":"out"}'
        else
            body='{"id":"bench","tag":1,"mode":"ipfix"}'
        fi
        for _ in $(seq 50); do
            curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer secret-of-the-bench" \
                -d "$body" "http://127.0.0.1:$((port + 100))/v1/traces" | grep -q 201 && break
            sleep 0.1
        done
        local m
        measure vnd "$kind" "$pid" "$port" >"$W/m"
        m=$(cat "$W/m")
        local rows
        rows=$(settled sqlite3 "$W/vnd.db.tenants/default.db" "select count(*) from bench" 2>/dev/null)
        echo "$m ${rows:-0} rows"
        stop "$pid"
    done
}

pmacct_run() {
    local daemon=$1 i port=$PORT
    for i in $(seq "$RUNS"); do
        port=$((port + 1))
        rm -f "$W/pm.db"
        sqlite3 "$W/pm.db" "CREATE TABLE acct (ip_src CHAR(45) NOT NULL DEFAULT '0.0.0.0',
            ip_dst CHAR(45) NOT NULL DEFAULT '0.0.0.0', src_port INT(4) NOT NULL DEFAULT 0,
            dst_port INT(4) NOT NULL DEFAULT 0, ip_proto CHAR(6) NOT NULL DEFAULT 0,
            packets INT NOT NULL, bytes BIGINT NOT NULL,
            stamp_inserted DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00', stamp_updated DATETIME,
            PRIMARY KEY (ip_src, ip_dst, src_port, dst_port, ip_proto, stamp_inserted))"
        local p=${daemon%d}     # sfacct, nfacct
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
        local pid=$!
        PIDS+=("$pid")
        bound "$port" || { echo "# $daemon did not listen"; sed 's/^/#   /' "$W/pm.log" | tail -3; continue; }
        sleep 0.3
        local m kind=sflow
        [ "$daemon" = nfacctd ] && kind=ipfix
        measure "$daemon" "$kind" "$pid" "$port" >"$W/m"
        m=$(cat "$W/m")
        local pk rows
        read -r pk rows < <(settled sqlite3 -separator ' ' "$W/pm.db" "select coalesce(sum(packets),0), count(*) from acct" 2>/dev/null)
        echo "$m packets:${pk:-0}/$PACKETS_SENT in ${rows:-0} rows"
        stop "$pid"
    done
}

nfcapd_run() {
    local i port=$PORT
    for i in $(seq "$RUNS"); do
        port=$((port + 1))
        rm -rf "$W/nf"
        mkdir -p "$W/nf"
        nfcapd -b 127.0.0.1 -p "$port" -w "$W/nf" -B 8388608 >"$W/nf.log" 2>&1 &
        local pid=$!
        PIDS+=("$pid")
        bound "$port" || { echo "# nfcapd did not listen"; sed 's/^/#   /' "$W/nf.log" | tail -3; continue; }
        local m
        measure nfcapd ipfix "$pid" "$port" >"$W/m"
        m=$(cat "$W/m")
        stop "$pid"      # it writes its file on exit
        local flows
        flows=$(nfdump -R "$W/nf" -I 2>/dev/null | sed -n 's/^Flows: *//p')
        echo "$m flows:${flows:-0}"
    done
}

echo "# collector_bench: $N datagrams per run, best of $RUNS, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
row collector records/s "CPU s/M" lost records "stored"
# (not in a subshell: PIDS must reach the cleanup)
PORT=7690; vnd_run sflow >"$W/r"; row "vnd-tabled --sflow-listen" $(best <"$W/r")
if command -v sfacctd >/dev/null; then
    PORT=7700; pmacct_run sfacctd >"$W/r"; row "pmacct sfacctd -> SQLite" $(best <"$W/r")
fi
PORT=7710; vnd_run ipfix >"$W/r"; row "vnd-tabled --ipfix-listen" $(best <"$W/r")
if command -v nfacctd >/dev/null; then
    PORT=7720; pmacct_run nfacctd >"$W/r"; row "pmacct nfacctd -> SQLite" $(best <"$W/r")
fi
if command -v nfcapd >/dev/null; then
    PORT=7730; nfcapd_run >"$W/r"; row "nfdump nfcapd -> flow files" $(best <"$W/r")
fi
