#!/usr/bin/env bash
# scripts/package-check.sh — `make package-check`: build VND's Debian
# packages from this tree, install them, start vnd-tabled as its installed
# unit says, check it answers its API with the installed secret and writes
# into its state directory, check `man vnd` shows every subcommand's
# options, then purge the packages and check nothing is left (files, user,
# group, directories, unit links).  Root, Debian 12.  Cleans up on failure
# too.  docs/packaging.md.
#
# With systemd as PID 1 the unit is started with systemctl; otherwise its
# ExecStart line runs as its User= with its AmbientCapabilities= (setpriv),
# in the StateDirectory= made as systemd makes it, with a NOTIFY_SOCKET
# that must receive READY=1.
#
# Environment: KEEP_DEBS=DIR keeps the built .deb files there;
# VND_PKG_DEBS=DIR installs the .deb files found there instead of building.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
PKGS=(vnd vnd-tabled vnd-controld)
TMP=$(mktemp -d /tmp/vnd-package-check.XXXXXX)
N=0 FAILED=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
die() { echo "package-check: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs and purges packages)"
for p in "${PKGS[@]}"; do
    s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ -z "$s" ] || [ "$s" = not-installed ] || \
        die "$p is already on this machine ($s): refusing to purge someone's installation"
done
getent passwd vnd >/dev/null && die "a user vnd exists already: refusing (purge would remove it)"
[ -e /etc/vnd ] && die "/etc/vnd exists already: refusing"

DAEMON_PID= IFACE_MADE= LISTENER_PID=
cleanup() {
    set +e
    [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null
    [ "$SYSTEMD" = 1 ] && systemctl stop vnd-tabled 2>/dev/null
    for p in "${PKGS[@]}"; do
        s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
        [ -n "$s" ] && [ "$s" != not-installed ] && dpkg --purge "${PKGS[@]}" >/dev/null 2>&1 && break
    done
    [ -n "$IFACE_MADE" ] && ip link del "$IFACE_MADE" 2>/dev/null
    rm -rf "$TMP"
}
SYSTEMD=0
[ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ] && SYSTEMD=1
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$(date +%s)
# 1. Build, in a copy of the tree (dpkg-buildpackage writes next to the
#    source folder; the tree's build folders stay out of it).
if [ -n "${VND_PKG_DEBS:-}" ]; then
    cp "$VND_PKG_DEBS"/*.deb "$TMP/" || die "no .deb in $VND_PKG_DEBS"
else
    # The packaging tools (as scripts/install-deps.sh does for the build).
    need=()
    for p in dpkg-dev debhelper lintian fakeroot man-db; do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        echo "# installing ${need[*]}"
        apt-get install -y --no-install-recommends "${need[@]}" >"$TMP/tools.log" 2>&1 ||
            { tail "$TMP/tools.log"; die "cannot install ${need[*]}"; }
    fi
    mkdir -p "$TMP/src/vnd"
    git ls-files -co --exclude-standard -z | grep -zv '^build' |
        tar -C "$SRC" --null -T - -cf - | tar -C "$TMP/src/vnd" -xf -
    if (cd "$TMP/src/vnd" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$TMP/build.log" 2>&1; then
        ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - T0)) s)"
    else
        tail -30 "$TMP/build.log"; not_ok "dpkg-buildpackage -us -uc -b"; exit 1
    fi
    # Lintian as the archive would run it (the info tags too), not as root.
    chmod 755 "$TMP" "$TMP/src" && chmod -R a+rX "$TMP/src"/*.deb "$TMP/src"/*.changes "$TMP/src"/*.buildinfo
    setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/nonexistent \
        lintian --info --fail-on error "$TMP"/src/*.changes >"$TMP/lintian.log" 2>&1
    check "lintian: no errors" test $? -eq 0
    echo "# lintian: $(grep -c '^[EWIP]:' "$TMP/lintian.log") tags (docs/packaging.md explains each)"
    sed 's/^/#   /' "$TMP/lintian.log"
    mv "$TMP"/src/*.deb "$TMP/"
    if [ -n "${KEEP_DEBS:-}" ]; then mkdir -p "$KEEP_DEBS" && cp "$TMP"/*.deb "$KEEP_DEBS/"; fi
fi
for p in "${PKGS[@]}"; do check "built $p" bash -c "compgen -G '$TMP/${p}_*.deb' >/dev/null"; done

# 2. Install (recommended packages are not pulled in: Open vSwitch is the
#    operator's choice).
if apt-get install -y --no-install-recommends "$TMP"/vnd_*.deb "$TMP"/vnd-tabled_*.deb \
       "$TMP"/vnd-controld_*.deb >"$TMP/install.log" 2>&1; then
    ok "apt-get install the three packages"
else
    tail -20 "$TMP/install.log"; not_ok "apt-get install the three packages"; exit 1
fi
check "user vnd exists, a system user" bash -c '[ "$(id -u vnd)" -lt 1000 ]'
for s in /etc/vnd/tabled.secret /etc/vnd/admin.secret; do
    check "$s: mode 600, owner vnd" test "$(stat -c %a:%U:%G "$s")" = 600:vnd:vnd
    check "$s: one line of >= 16 characters" test "$(head -1 "$s" | tr -d '\n' | wc -c)" -ge 16
done
check "/etc/vnd/tabled.conf is a conffile" grep -qx /etc/vnd/tabled.conf /var/lib/dpkg/info/vnd-tabled.conffiles
check "vnd-tabled.service enabled" test -L /etc/systemd/system/multi-user.target.wants/vnd-tabled.service
check "vnd --help runs (installed)" bash -c '/usr/bin/vnd --help >/dev/null' 
check "vnd finds its testbed script" test -x /usr/share/vnd/testbed.sh
check "bash completion installed" test -f /usr/share/bash-completion/completions/vnd

# 3. Start vnd-tabled as the unit says.  Its configuration names the
#    mirror port vnd-mirror0; where the machine has none, a veth pair
#    stands in for it.
UNIT=/lib/systemd/system/vnd-tabled.service
IFACE=$(sed -n 's/^interface *= *//p' /etc/vnd/tabled.conf | head -1)
if ! ip link show "$IFACE" >/dev/null 2>&1; then
    ip link add "$IFACE" type veth peer name vndpkgchk1 && ip link set "$IFACE" up &&
        ip link set vndpkgchk1 up && IFACE_MADE=$IFACE
fi
LISTEN=$(sed -n 's/^listen *= *//p' /etc/vnd/tabled.conf | head -1); LISTEN=${LISTEN:-127.0.0.1:7410}
DB=$(sed -n 's/^db *= *//p' /etc/vnd/tabled.conf | head -1)
unitval() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
STATEDIR=/var/lib/$(unitval StateDirectory)
if [ "$SYSTEMD" = 1 ]; then
    check "systemctl start vnd-tabled" systemctl start vnd-tabled
else
    # What systemd does for this unit: StateDirectory= (owned by User=,
    # StateDirectoryMode=), UMask=, User=/Group=, AmbientCapabilities= and
    # CapabilityBoundingSet=, NoNewPrivileges=, NOTIFY_SOCKET for Type=notify.
    user=$(unitval User) group=$(unitval Group)
    caps=$(unitval AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
    install -d -o "$user" -g "$group" -m "$(unitval StateDirectoryMode)" "$STATEDIR"
    read -r -a CMD <<<"$(unitval ExecStart)"
    NOTIFY=$TMP/notify.sock
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True: f.write(s.recv(4096) + b"\n")' "$NOTIFY" "$TMP/notified" &
    LISTENER_PID=$!
    for _ in $(seq 50); do [ -S "$NOTIFY" ] && break; sleep 0.1; done
    chmod 755 "$TMP"
    echo "# no systemd as PID 1: running ExecStart as $user with caps $caps"
    (umask "$(unitval UMask)"; NOTIFY_SOCKET=$NOTIFY exec setpriv --reuid="$user" --regid="$group" \
        --init-groups --no-new-privs --inh-caps="-all,$caps" --ambient-caps="-all,$caps" \
        --bounding-set="-all,$caps" -- "${CMD[@]}") >"$TMP/tabled.log" 2>&1 &
    DAEMON_PID=$!
fi
URL=http://$LISTEN
AUTH="Authorization: Bearer $(cat /etc/vnd/tabled.secret)"
code=
for _ in $(seq 100); do
    code=$(curl -s -o "$TMP/traces.json" -w '%{http_code}' -H "$AUTH" "$URL/v1/traces")
    [ "$code" = 200 ] && break; sleep 0.1
done
check "GET /v1/traces with the installed secret: 200" test "$code" = 200
check "... a JSON answer with traces and capture" grep -q '"capture"' "$TMP/traces.json"
check "without the secret: 401" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/traces")" = 401
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" -d '{"id": "pkgcheck", "tag": 7}' "$URL/v1/traces")
check "POST /v1/traces: 201" test "$code" = 201
check "the store is in the state directory $STATEDIR" test -s "$DB" -a "${DB#"$STATEDIR"/}" != "$DB"
check "the tenant database was written there" test -s "$DB.tenants/default.db"
check "state files belong to vnd" test -z "$(find "$STATEDIR" ! -user vnd)"
if command -v sqlite3 >/dev/null; then
    # SQLite's shell with the installed extension reads a packed table
    out=$(sqlite3 :memory: -cmd '.load /usr/lib/vnd/vnd_packed' 'create table "t:packed" (last
        integer primary key, first integer not null, n integer not null, ncols integer not null,
        rows blob not null); create virtual table t using vnd_packed("a" INTEGER);
        select count(*) from t' 2>&1)
    check "sqlite3 loads /usr/lib/vnd/vnd_packed.so and reads a packed table ($out)" test "$out" = 0
fi
if [ "$SYSTEMD" = 1 ]; then
    check "systemctl reload vnd-tabled" systemctl reload vnd-tabled
    check "systemctl stop vnd-tabled" systemctl stop vnd-tabled
else
    pid=$(pgrep -u vnd -x vnd-tabled | head -1)
    check "the daemon runs as vnd" test -n "$pid"
    capeff=$(sed -n 's/^CapEff:\t//p' "/proc/$pid/status" 2>/dev/null)
    # CAP_NET_ADMIN is bit 12, CAP_NET_RAW bit 13: 0x3000 and nothing else.
    check "its effective capabilities: CAP_NET_RAW and CAP_NET_ADMIN only ($capeff)" \
        test "$capeff" = 0000000000003000
    check "READY=1 reached NOTIFY_SOCKET" grep -q READY=1 "$TMP/notified"
    kill -HUP "$DAEMON_PID"; sleep 0.3
    check "SIGHUP (ExecReload): still answering" \
        test "$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$URL/v1/traces")" = 200
    kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; rc=$?
    DAEMON_PID=
    check "SIGTERM: exit 0" test "$rc" = 0
    kill "$LISTENER_PID" 2>/dev/null; LISTENER_PID=
fi

# 4. The manual: `man vnd` and every subcommand's options.
check "man vnd works" bash -c 'MANPAGER=cat man vnd >/dev/null 2>&1'
LC_ALL=C MANWIDTH=250 MANPAGER=cat man vnd >"$TMP/man.txt" 2>/dev/null
cmds=$(/usr/bin/vnd --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
missing=
for c in $cmds "demo lb"; do
    grep -q "^   vnd $c\$" "$TMP/man.txt" || missing+=" [section vnd $c]"
    # shellcheck disable=SC2086
    for o in $(/usr/bin/vnd $c --help 2>&1 | grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' |
               grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -q -- "$o" "$TMP/man.txt" || missing+=" $c:$o"
    done
done
check "man vnd shows every subcommand and its options${missing:+ (missing:$missing)}" test -z "$missing"
for m in vnd-tabled vnd-controld vnd-parse.conf vnd-collect.conf vnd-nib; do
    check "man $m" bash -c "MANPAGER=cat man $m >/dev/null 2>&1"
done

# 5. Purge and look for anything left.
if dpkg --purge "${PKGS[@]}" >"$TMP/purge.log" 2>&1; then ok "dpkg --purge"; else
    cat "$TMP/purge.log"; not_ok "dpkg --purge"; fi
check "user vnd gone" bash -c '! getent passwd vnd >/dev/null'
check "group vnd gone" bash -c '! getent group vnd >/dev/null'
left=$(ls -d /etc/vnd /var/lib/vnd /var/log/vnd /usr/share/vnd /usr/share/doc/vnd* /usr/bin/vnd \
       /usr/sbin/vnd-* /lib/systemd/system/vnd-* /etc/systemd/system/*/vnd-* \
       /var/lib/systemd/deb-systemd-helper-enabled/*vnd* \
       /var/lib/systemd/deb-systemd-helper-enabled/*/vnd-* /usr/share/man/man*/vnd* \
       /usr/share/bash-completion/completions/vnd 2>/dev/null)
check "nothing left behind${left:+: $left}" test -z "$left"
check "dpkg knows none of them" bash -c "! dpkg -l ${PKGS[*]} 2>/dev/null | grep -q '^[a-z][a-z] '"
echo "# $N checks, $FAILED failed, $(($(date +%s) - T0)) s"
[ "$FAILED" -eq 0 ]
