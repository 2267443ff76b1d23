# lib-ovs.sh — the OVS test bed of DESIGN.md for tests and benches: a
# private ovsdb-server/ovs-vswitchd (userspace datapath), namespaces as
# VMs, veth pairs as their NICs, one mirror port, VND's two-table layout.
#
#   source lib-ovs.sh
#   ovs_bed_up || skip ...     # everything below, or 1 with $OVS_WHY
#   ovs_capture_rule COOKIE IN_PORT TAG...   # table 0: copy tagged to mirror, goto 1
#   ovs_rule_packets COOKIE    # n_packets of that rule
#   ovs_bed_down               # (also from the EXIT trap) removes all of it
#
# Names carry the shell's pid so parallel runs never collide.  Traffic goes
# only between the bed's namespaces.
B_ID=$$
B_DIR=
B_BR=vbr$B_ID
B_H1=vh1$B_ID B_H2=vh2$B_ID B_TB=vtb$B_ID        # namespaces: two VMs, the table server
B_P1=vp1$B_ID B_P2=vp2$B_ID B_PM=vpm$B_ID        # OVS ports (root namespace)
B_MIRROR=mirror0                                   # the capture end, inside $B_TB
B_IP1=10.77.0.1 B_IP2=10.77.0.2
B_OTHER_OVS=0

ofctl() { ovs-ofctl -O OpenFlow13 "$@"; }
vsctl() { ovs-vsctl --db="unix:$B_DIR/db.sock" --timeout=10 "$@"; }

_b_veth() {   # NS IFNAME-in-ns PEER-in-root
    ip link add "${3}n" type veth peer name "$3" || return 1
    ip link set "${3}n" netns "$1" && ip -n "$1" link set "${3}n" name "$2" || return 1
    local x="ip netns exec $1"
    $x ethtool -K "$2" tx off rx off >/dev/null 2>&1
    ethtool -K "$3" tx off rx off >/dev/null 2>&1
    $x ip link set "$2" up && ip link set "$3" up
}

# Another live ovs-vswitchd on the machine (zombies do not count).
_b_other_ovs() { ps -C ovs-vswitchd -o stat= 2>/dev/null | grep -qv '^Z'; }

ovs_bed_up() {
    OVS_WHY=
    local schema=/usr/share/openvswitch/vswitch.ovsschema
    if [ "$(id -u)" -ne 0 ]; then OVS_WHY="needs root"; return 1; fi
    for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl; do
        command -v $t >/dev/null || { OVS_WHY="$t is not installed"; return 1; }
    done
    [ -f "$schema" ] || { OVS_WHY="no $schema"; return 1; }
    bed_lock || { OVS_WHY="another OVS test bed held /tmp/vnd-ovs-bed.lock for 600 s"; return 1; }
    _b_other_ovs && B_OTHER_OVS=1
    B_DIR=$(mktemp -d /tmp/vnd-ovs.XXXXXX)
    export OVS_RUNDIR=$B_DIR OVS_LOGDIR=$B_DIR OVS_DBDIR=$B_DIR
    ovsdb-tool create "$B_DIR/conf.db" "$schema" >/dev/null || { OVS_WHY="ovsdb-tool create failed"; return 1; }
    ovsdb-server "$B_DIR/conf.db" --remote="punix:$B_DIR/db.sock" --pidfile="$B_DIR/ovsdb.pid" \
        --unixctl="$B_DIR/ovsdb.ctl" --log-file="$B_DIR/ovsdb.log" --detach --no-chdir 2>/dev/null 9>&- \
        || { OVS_WHY="ovsdb-server did not start"; return 1; }
    vsctl --no-wait init || { OVS_WHY="ovs-vsctl init failed"; return 1; }
    ovs-vswitchd "unix:$B_DIR/db.sock" --pidfile="$B_DIR/vswitchd.pid" \
        --unixctl="$B_DIR/vswitchd.ctl" --log-file="$B_DIR/vswitchd.log" --detach --no-chdir 2>/dev/null 9>&- \
        || { OVS_WHY="ovs-vswitchd did not start (see $B_DIR/vswitchd.log)"; return 1; }
    vsctl add-br "$B_BR" -- set bridge "$B_BR" datapath_type=netdev \
        || { OVS_WHY="cannot add a netdev bridge"; return 1; }
    for ns in $B_H1 $B_H2 $B_TB; do ip netns add $ns || { OVS_WHY="ip netns add failed"; return 1; }; done
    _b_veth $B_H1 eth0 $B_P1 && _b_veth $B_H2 eth0 $B_P2 && _b_veth $B_TB $B_MIRROR $B_PM \
        || { OVS_WHY="veth setup failed"; return 1; }
    ip -n $B_H1 addr add $B_IP1/24 dev eth0
    ip -n $B_H2 addr add $B_IP2/24 dev eth0
    for ns in $B_H1 $B_H2 $B_TB; do ip -n $ns link set lo up; done
    # IPv6 would add router/neighbour chatter to the counts.
    for ns in $B_H1 $B_H2; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
    ip netns exec $B_TB sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    vsctl add-port "$B_BR" $B_P1 -- set interface $B_P1 ofport_request=1 \
        -- add-port "$B_BR" $B_P2 -- set interface $B_P2 ofport_request=2 \
        -- add-port "$B_BR" $B_PM -- set interface $B_PM ofport_request=9 \
        || { OVS_WHY="cannot add ports"; return 1; }
    # Only tagged copies reach the mirror port: NORMAL would flood to it.
    # OpenFlow 1.0: 1.1+ have no NO_FLOOD bit, and `-O OpenFlow13 mod-port
    # ... no-flood` succeeds without setting anything.
    ovs-ofctl -O OpenFlow10 mod-port "$B_BR" $B_PM no-flood \
        && ovs-ofctl -O OpenFlow10 show "$B_BR" | grep -A1 "^ 9(" | grep -q NO_FLOOD \
        || { OVS_WHY="mod-port no-flood failed"; return 1; }
    ofctl del-flows "$B_BR"
    ofctl add-flow "$B_BR" "table=0,priority=0,actions=goto_table:1" \
        && ofctl add-flow "$B_BR" "table=1,priority=0,actions=NORMAL" \
        || { OVS_WHY="cannot install the two-table layout"; return 1; }
    return 0
}

# ovs_capture_rule COOKIE IN_PORT TAG [TAG...]: one copy per tag.
ovs_capture_rule() {
    local cookie=$1 port=$2; shift 2
    local a="" t
    for t in "$@"; do a="${a}push_vlan:0x8100,set_field:$((4096 + t))->vlan_vid,output:9,pop_vlan,"; done
    ofctl add-flow "$B_BR" "table=0,priority=100,cookie=$cookie,in_port=$port,actions=${a}goto_table:1"
}

ovs_del_rules() { ofctl del-flows "$B_BR" "cookie=$1/-1"; }

ovs_rule_packets() {
    ofctl dump-flows "$B_BR" "cookie=$1/-1" | grep -o 'n_packets=[0-9]*' | head -1 | cut -d= -f2
}

ovs_bed_down() {
    [ -z "$B_DIR" ] && return 0
    for p in vswitchd ovsdb; do
        [ -f "$B_DIR/$p.pid" ] && kill "$(cat "$B_DIR/$p.pid")" 2>/dev/null
    done
    sleep 0.3
    for p in vswitchd ovsdb; do
        [ -f "$B_DIR/$p.pid" ] && kill -9 "$(cat "$B_DIR/$p.pid")" 2>/dev/null
    done
    for ns in $B_H1 $B_H2 $B_TB; do ip netns del $ns 2>/dev/null; done
    for l in $B_P1 $B_P2 $B_PM $B_BR; do ip link del $l 2>/dev/null; done
    # The netdev datapath leaves ovs-netdev behind; another OVS may use it.
    [ "$B_OTHER_OVS" = 0 ] && ! _b_other_ovs && ip link del ovs-netdev 2>/dev/null
    rm -rf "$B_DIR"
    B_DIR=
}

# --- more namespaces, and a table server (added for the §5.1.2 and §5.2
# beds; nothing above uses them).
#
#   ovs_ns_add NAME OFPORT IP/PREFIX [GATEWAY]   # a namespace $B_NS_<NAME>, eth0 on OFPORT
#   ovs_ns_link NAME IFNAME OFPORT IP/PREFIX     # another NIC of that namespace on OFPORT
#   ovs_ns_down                                  # removes them (call before ovs_bed_down)
#   ovs_tabled_up DIR PORT [OPTIONS...]          # vnd-tabled ($TABLED) on the mirror port
#   ovs_api METHOD PATH [BODY]                   # its API: $B_CODE, $B_BODY
#   ovs_tabled_down                              # SIGTERM, then SIGKILL after 5 s
# OFPORT numbers 10-99 (1, 2 and 9 are the bed's own).  Root-side port
# names are vq<OFPORT>x<pid>, namespaces vn<NAME>x<pid>.
B_EXTRA_NS= B_EXTRA_PORTS= B_TABLED_PID= B_TABLED_URL= B_TABLED_SECRET= B_TABLED_DB=
ovs_ns_add() {
    local ns=vn$1x$B_ID
    ip netns add "$ns" || return 1
    B_EXTRA_NS="$B_EXTRA_NS $ns"
    eval "B_NS_$1=$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ovs_ns_link "$1" eth0 "$2" "$3" || return 1
    if [ -n "${4:-}" ]; then ip -n "$ns" route add default via "$4" || return 1; fi
}
ovs_ns_link() {
    local ns=vn$1x$B_ID port=vq$3x$B_ID
    B_EXTRA_PORTS="$B_EXTRA_PORTS $port"
    _b_veth "$ns" "$2" "$port" || return 1
    ip -n "$ns" addr add "$4" dev "$2" || return 1
    vsctl add-port "$B_BR" "$port" -- set interface "$port" ofport_request="$3"
}
ovs_ns_down() {
    local x
    for x in $B_EXTRA_NS; do ip netns del "$x" 2>/dev/null; done
    for x in $B_EXTRA_PORTS; do ip link del "$x" 2>/dev/null; done
    B_EXTRA_NS= B_EXTRA_PORTS=
}
ovs_tabled_up() {
    local dir=$1 port=$2; shift 2
    head -c 24 /dev/urandom | base64 >"$dir/tabled.secret"; chmod 600 "$dir/tabled.secret"
    B_TABLED_SECRET=$(cat "$dir/tabled.secret") B_TABLED_URL=http://127.0.0.1:$port B_TABLED_DB=$dir/t.db
    rm -f "$dir/tabled.pid"
    ip netns exec "$B_TB" sh -c 'echo $$ >"$0"; exec "$@"' "$dir/tabled.pid" "$TABLED" \
        --interface "$B_MIRROR" --db "$dir/t.db" --listen "127.0.0.1:$port" \
        --secret-file "$dir/tabled.secret" --log-file "$dir/tabled.log" "$@" 9>&- &
    local _
    for _ in $(seq 40); do [ -s "$dir/tabled.pid" ] && break; sleep 0.05; done
    B_TABLED_PID=$(cat "$dir/tabled.pid" 2>/dev/null)
    [ -n "$B_TABLED_PID" ] || return 1
    for _ in $(seq 50); do
        ovs_api GET /v1/traces && [ "$B_CODE" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}
ovs_api() {
    B_BODY=$(ip netns exec "$B_TB" curl -s --max-time 30 -X "$1" -H "Authorization: Bearer $B_TABLED_SECRET" \
             ${3:+--data-binary "$3"} -w '\n%{http_code}' "$B_TABLED_URL$2")
    B_CODE=${B_BODY##*$'\n'}; B_BODY=${B_BODY%$'\n'*}
}
ovs_tabled_down() {
    [ -z "$B_TABLED_PID" ] && return 0
    kill -TERM "$B_TABLED_PID" 2>/dev/null
    local _
    for _ in $(seq 50); do kill -0 "$B_TABLED_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$B_TABLED_PID" 2>/dev/null
    B_TABLED_PID=
}

# --- an L4 balancer bed (paper §5.1.2): clients h1 and h2 (10.77.0.1, .2)
# → haproxy (namespace lb: 10.77.0.254 on port 10, 10.81.0.254 on port 11;
# mode tcp, balance roundrobin, no health checks) → backends b1..b3
# (10.81.0.1-3:8080, ports 12-14, each a python3 server answering every
# connection with the same 1000 bytes).  haproxy logs one line per
# connection to DIR/haproxy.log: "CLIENT:PORT>FRONTEND:PORT,BACKEND-SRC:PORT>SERVER:PORT",
# the form of `vnd diag correlate --by order`'s in_flow and out_flow.
#
#   ovs_lb_up DIR [NBTHREAD=1]       # after ovs_bed_up and ovs_tabled_up
#   ovs_lb_run DIR NAME RATE N       # N connections at RATE/s (0: as fast as they go),
#        # captured to traces NAME_fe and NAME_be; prints
#        # "conns accept_rate pairs right log_lines client_errors capture_lost
#        #  batched wrong_unbatched certain wrong_certain" (batched: pairs
#        #  whose backend SYN copy reached the mirror within 20 us of
#        #  another's; certain: pairs correlate marks certain)
#   ovs_lb_down                      # haproxy and the backends (also from ovs_ns_down's caller)
B_LB_PIDS= B_LB_TAG=300
ovs_lb_up() {
    local dir=$1 nbt=${2:-1} i
    ovs_ns_add lb 10 10.77.0.254/24 && ovs_ns_link lb eth1 11 10.81.0.254/24 || return 1
    for i in 1 2 3; do ovs_ns_add b$i $((11 + i)) 10.81.0.$i/24 10.81.0.254 || return 1; done
    # ephemeral ports: 4,000 connections per run never need one twice in a run
    for ns in $B_H1 $B_H2 $B_NS_lb; do ip netns exec $ns sysctl -qw net.ipv4.ip_local_port_range="10000 60999"; done
    cat >"$dir/lb_server.py" <<'PY'
import asyncio, sys
BODY = b"x" * 1000
async def serve(r, w):
    try:
        await r.readline()
        w.write(BODY)
        await w.drain()
    except Exception:
        pass
    w.close()
async def main():
    s = await asyncio.start_server(serve, sys.argv[1], 8080, backlog=4096)
    async with s:
        await s.serve_forever()
asyncio.run(main())
PY
    cat >"$dir/lb_client.py" <<'PY'
# lb_client.py HOST PORT RATE N [INFLIGHT [OFFSET]]: N connections, the i-th
# started at OFFSET + i/RATE s (RATE 0: as soon as fewer than INFLIGHT are
# open); each sends
# a line, reads the answer to EOF, closes.  Prints "done errors seconds".
import asyncio, sys, time
host, port, rate, n = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
inflight = int(sys.argv[5]) if len(sys.argv) > 5 else 200
offset = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
res = [0, 0]
async def one(sem):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 20)
        w.write(b"GET /\n")
        await w.drain()
        while await asyncio.wait_for(r.read(65536), 20):
            pass
        w.close()
        res[0] += 1
    except Exception:
        res[1] += 1
    finally:
        sem.release()
async def main():
    sem = asyncio.Semaphore(inflight)
    tasks = []
    t0 = time.monotonic()
    for i in range(n):
        if rate > 0:
            d = t0 + offset + i / rate - time.monotonic()
            if d > 0:
                await asyncio.sleep(d)
        await sem.acquire()
        tasks.append(asyncio.create_task(one(sem)))
    await asyncio.gather(*tasks)
    print(res[0], res[1], "%.3f" % (time.monotonic() - t0))
asyncio.run(main())
PY
    for i in 1 2 3; do
        local nsv=B_NS_b$i
        ip netns exec "${!nsv}" python3 "$dir/lb_server.py" 10.81.0.$i >/dev/null 2>&1 9>&- &
        B_LB_PIDS="$B_LB_PIDS $!"
    done
    cat >"$dir/haproxy.cfg" <<HA
global
    log stdout format raw local0
    nbthread $nbt
    maxconn 8000
defaults
    mode tcp
    log global
    log-format "%ci:%cp>%fi:%fp,%bi:%bp>%si:%sp"
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 10.77.0.254:80 backlog 4096
    default_backend be
backend be
    balance roundrobin
    server b1 10.81.0.1:8080
    server b2 10.81.0.2:8080
    server b3 10.81.0.3:8080
HA
    haproxy -c -q -f "$dir/haproxy.cfg" || return 1
    ip netns exec "$B_NS_lb" haproxy -db -f "$dir/haproxy.cfg" >>"$dir/haproxy.log" 2>"$dir/haproxy.err" 9>&- &
    B_LB_PIDS="$B_LB_PIDS $!"
    local _ n
    for _ in $(seq 50); do
        n=0
        for i in 1 2 3; do ip netns exec "$B_NS_lb" bash -c "exec 3<>/dev/tcp/10.81.0.$i/8080" 2>/dev/null && n=$((n + 1)); done
        [ $n = 3 ] && ip netns exec "$B_H1" bash -c "exec 3<>/dev/tcp/10.77.0.254/80" 2>/dev/null && n=4 && break
        sleep 0.1
    done
    [ $n = 4 ] || return 1
    # The paper's OVS and haproxy had CPUs of their own; here two CPUs are
    # shared with the clients, the backends and whatever else runs.  When
    # ovs-vswitchd waits for a CPU, the userspace datapath reads many frames
    # in one batch and sends the copies out grouped by datapath flow (per
    # backend for the SYNs), not in the order they came: real-time priority
    # for it and haproxy keeps batches short (VND_LB_RT=0: leave them be).
    # Within one batch the datapath also groups frames by datapath flow:
    # with megaflows the backend SYNs of different connections share a
    # flow per backend, and their copies leave grouped by backend, out of
    # haproxy's order.  Exact-match datapath flows (one per connection)
    # keep the order of first appearance, which is the wire order of the
    # SYNs (VND_LB_EXACT=0: megaflows, as OVS runs by default;
    # docs/paper.md §5.1.2 has both).
    if [ "${VND_LB_EXACT:-1}" = 1 ]; then
        ovs-appctl -t "$B_DIR/vswitchd.ctl" upcall/disable-megaflows >/dev/null || return 1
    fi
    if [ "${VND_LB_RT:-1}" = 1 ]; then
        local p t
        for p in $(cat "$B_DIR/vswitchd.pid") ${B_LB_PIDS##* }; do
            for t in /proc/$p/task/*; do chrt -f -p 20 "${t##*/}" >/dev/null 2>&1; done
        done
    fi
    sleep 0.3
}
ovs_lb_down() {
    local p
    for p in $B_LB_PIDS; do kill "$p" 2>/dev/null; done
    for p in $B_LB_PIDS; do wait "$p" 2>/dev/null; done
    B_LB_PIDS=
}
ovs_lb_run() {
    local dir=$1 name=$2 rate=$3 n=$4 fe be half
    B_LB_TAG=$((B_LB_TAG + 2)); fe=$B_LB_TAG; be=$((B_LB_TAG + 1))
    ovs_api POST /v1/traces "{\"id\": \"${name}_fe\", \"tag\": $fe}"; [ "$B_CODE" = 201 ] || return 1
    ovs_api POST /v1/traces "{\"id\": \"${name}_be\", \"tag\": $be}"; [ "$B_CODE" = 201 ] || return 1
    for c in 0x31 0x32 0x33 0x34 0x35 0x36 0x37 0x38; do ovs_del_rules $c; done
    ovs_capture_rule 0x31 1 $fe && ovs_capture_rule 0x32 2 $fe && ovs_capture_rule 0x33 10 $fe &&
        ovs_capture_rule 0x34 11 $be && ovs_capture_rule 0x35 12 $be &&
        ovs_capture_rule 0x36 13 $be && ovs_capture_rule 0x37 14 $be || return 1
    local l0; l0=$(stat -c %s "$dir/haproxy.log")
    half=$(awk -v r="$rate" 'BEGIN { print r / 2 }')
    ip netns exec "$B_H1" python3 "$dir/lb_client.py" 10.77.0.254 80 "$half" $((n / 2)) >"$dir/c1.out" 2>&1 9>&- &
    local c1=$!
    # the second client half a period later: the two interleave, RATE evenly spaced
    ip netns exec "$B_H2" python3 "$dir/lb_client.py" 10.77.0.254 80 "$half" $((n - n / 2)) 200 \
        "$(awk -v r="$rate" 'BEGIN { print (r > 0 ? 1 / r : 0) }')" >"$dir/c2.out" 2>&1 9>&-
    wait $c1
    # until the table server has every frame OVS copied (counters lag)
    local _ want got
    for _ in $(seq 60); do
        sleep 0.5
        want=0; for c in 0x31 0x32 0x33 0x34 0x35 0x36 0x37; do want=$((want + $(ovs_rule_packets $c))); done
        got=0
        for t in ${name}_fe ${name}_be; do
            ovs_api GET /v1/traces/$t
            got=$((got + $(grep -o '"seen":[0-9]*' <<<"$B_BODY" | cut -d: -f2)))
        done
        [ "$got" -ge "$want" ] && break
    done
    sleep 0.5
    for c in 0x31 0x32 0x33 0x34 0x35 0x36 0x37; do ovs_del_rules $c; done
    tail -c +$((l0 + 1)) "$dir/haproxy.log" | grep -a '>' >"$dir/$name.log"
    "$VND" diag correlate -d "$B_TABLED_DB.tenants/default.db" --in ${name}_fe --out ${name}_be \
        --by order -f csv >"$dir/$name.csv" 2>"$dir/$name.err" || return 1
    local errs done
    done=$(( $(cut -d' ' -f1 "$dir/c1.out") + $(cut -d' ' -f1 "$dir/c2.out") ))
    errs=$(( $(cut -d' ' -f2 "$dir/c1.out") + $(cut -d' ' -f2 "$dir/c2.out") ))
    awk -F, -v done="$done" -v errs="$errs" -v lost=$((want - got)) '
        NR == FNR { inlog[$0] = 1; nlog++; next }
        FNR == 1 { next }
        { pairs++; ok[pairs] = (($2 "," $4) in inlog); right += ok[pairs]; syn[pairs] = $5
          certain += $7; if ($7 == 1 && !ok[pairs]) wrong_certain++
          if (pairs == 1) t0 = $3; t1 = $3 }
        END { rate = pairs > 1 && t1 > t0 ? (pairs - 1) / (t1 - t0) : 0
              # batched: the SYN copy within 20 us of another (one datapath batch)
              for (i = 1; i <= pairs; i++) {
                  b = (i > 1 && syn[i] - syn[i - 1] < 2e-5) || (i < pairs && syn[i + 1] - syn[i] < 2e-5)
                  batched += b; if (!b && !ok[i]) wrong_alone++ }
              printf "%d %.0f %d %d %d %d %d %d %d %d %d\n", done, rate, pairs, right, nlog, errs, lost, batched, wrong_alone, certain, wrong_certain + 0 }' \
        "$dir/$name.log" "$dir/$name.csv"
}
