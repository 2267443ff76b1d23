# lib-tabled.sh — a vnd-tabled of the test's own: a network namespace with
# a veth pair (va → vb, the table server captures vb), a secret, a
# watchdog, and cleanup of all of it on exit.  Source it after lib.sh:
#
#   tabled_setup NAME PORT SECONDS   skips the test (and exits) without
#                                    root or namespaces; sets NS, W, URL,
#                                    SECRET, TABLED; the watchdog fails the
#                                    test after SECONDS
#   tabled_start [ARGS...]           starts it on $W/t.db (PID, JOB); 0 once
#                                    it answers
#   api METHOD PATH [BODY] [HEADER]  one request: CODE and BODY
#   nsx CMD...                       CMD inside the namespace
#
# A test may set CLEANUP_PIDS to more pids of its own to kill on exit.
TABLED=${VND_TABLED:-$VND_BUILD/vnd-tabled}
PID= JOB= CLEANUP_PIDS=

nsx() { ip netns exec "$NS" "$@"; }

tabled_cleanup() {
    local p
    for p in $CLEANUP_PIDS; do kill -9 "$p" 2>/dev/null; done
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    [ "${KEEP:-}" ] && echo "# kept $W" || rm -rf "$W"
}

tabled_setup() {
    local name=$1 secs=$3
    NS=vnd$name$$
    if [ "$(id -u)" -ne 0 ] || ! ip netns add "$NS" 2>/dev/null; then
        skip "$name: needs root and network namespaces"
        done_testing; exit 0
    fi
    W=$(mktemp -d "/tmp/vnd-$name.XXXXXX")
    URL=http://127.0.0.1:$2
    # A hard limit for the whole test: CI must not hang.
    ( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep "$secs" >/dev/null & s=$!; wait $s
      echo "not ok - $name timed out"; kill -TERM $$ ) 2>/dev/null &
    WATCHDOG=$!
    trap 'kill $WATCHDOG 2>/dev/null; tabled_cleanup' EXIT
    nsx ip link set lo up
    # no IPv6 here: the kernel's own router solicitations and MLD reports
    # would reach vb beside the test's frames (counters seen off by two)
    nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    nsx ip link add va type veth peer name vb
    nsx ip link set va up
    nsx ip link set vb up
    head -c 24 /dev/urandom | base64 >"$W/secret"
    chmod 600 "$W/secret"
    SECRET=$(cat "$W/secret")
}

# `ip netns exec` forks: the pid to signal is the table server's own
# (written by the shell that execs it), the job to wait for is ip's, which
# exits with the table server's status.
tabled_start() {
    rm -f "$W/pid"
    nsx sh -c 'echo $$ >"$0"; exec "$@"' "$W/pid" "$TABLED" --interface vb --db "$W/t.db" \
        --listen "${URL#http://}" --secret-file "$W/secret" --log-file "$W/log" "$@" &
    JOB=$!
    for _ in $(seq 20); do [ -s "$W/pid" ] && break; sleep 0.05; done
    PID=$(cat "$W/pid")
    for _ in $(seq 50); do
        nsx curl -s -o /dev/null --max-time 1 "$URL/v1/traces" && return 0
        sleep 0.1
    done
    return 1
}

api() {
    local auth=${4:-"Authorization: Bearer $SECRET"}
    BODY=$(nsx curl -s --max-time 30 -X "$1" -H "$auth" ${3:+--data-binary "$3"} \
           -w '\n%{http_code}' "$URL$2")
    CODE=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
}
