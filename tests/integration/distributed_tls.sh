#!/usr/bin/env bash
# distributed_tls.sh — the coordinator's link to a table server's
# PostgreSQL over TLS, as where it leaves the host (docs/distributed.md):
# the table server's instance listens on 127.0.0.1 with a certificate
# signed by a CA made here (openssl), prepared by scripts/vnd-pg-setup
# table-server --tls CERT KEY --require-tls: pg_hba.conf admits the
# coordinator's role over TLS only (hostssl), and rejects it without
# (hostnossl ... reject), even beside a permissive line such as Debian's
# "host all all 127.0.0.1/32".  The coordinator (Unix socket) reaches it
# through postgres_fdw with sslmode=verify-full and the CA as sslrootcert:
#   - a tenant's query through the coordinator answers;
#   - pg_stat_ssl on the table server shows that connection encrypted;
#   - the role without TLS is refused (psql, and a foreign server with
#     sslmode=disable), and so is a coordinator that trusts another CA.
# Everything lives in a temporary directory; the instances are stopped
# and removed on exit, failure included.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-pg.sh"
TOOL=${VND_BUILD:-$(dirname "$VND")}/tests/tool_coord
GEN=${VND_BUILD:-$(dirname "$VND")}/bench/gen_capture
SETUP=$(cd "$(dirname "$0")/../.." && pwd)/scripts/vnd-pg-setup
pg_need "TLS between the coordinator and a table server" fdw
command -v openssl >/dev/null || { skip "TLS to a table server (needs the openssl command)"; done_testing; exit; }
[ -x "$TOOL" ] && [ -x "$GEN" ] || { not_ok "no $TOOL or $GEN (make builds them)"; done_testing; exit; }
W=$(mktemp -d /tmp/vnd-tls.XXXXXX)
chmod 755 "$W"; chown postgres "$W"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:log_path=$W/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}:log_path=$W/asan"
cleanup() { pg_stop_all; rm -rf "$W"; }
trap cleanup EXIT
# a free loopback port for the table server
for P in $(shuf -i 20000-40000 -n 50); do
    [ -z "$(ss -Htln "sport = :$P")" ] && break
done

# --- a CA, and the table server's certificate for 127.0.0.1, signed by it
ca() {      # NAME: a self-signed CA
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=VND test CA $1" \
        -keyout "$W/$1.key" -out "$W/$1.crt" 2>/dev/null
}
if ca ca && ca other &&
   openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$W/server.key" \
        -out "$W/server.csr" 2>/dev/null &&
   openssl x509 -req -in "$W/server.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial \
        -days 2 -extfile <(printf 'subjectAltName = IP:127.0.0.1\n') -out "$W/server.crt" 2>/dev/null; then
    ok "openssl: a CA and the table server's certificate for 127.0.0.1"
else
    not_ok "openssl could not make the certificates"; done_testing; exit
fi
chown postgres "$W/server.key" "$W/server.crt"
chmod 600 "$W/server.key"

pg_start "TLS to a table server" "$W/c" "$W/sc"
pg_start "TLS to a table server" "$W/ts" "$W/sts" -c listen_addresses=127.0.0.1 -c port="$P"
# the superuser (vnd) by trust on the socket; every other role by
# password; and on the table server a line as permissive as Debian's
# default, which must not let the coordinator's role in without TLS
printf 'local all vnd trust\nlocal all all scram-sha-256\n' >"$W/c/pg_hba.conf"
printf 'local all vnd trust\nlocal all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n' \
    >"$W/ts/pg_hba.conf"
chown postgres "$W/c/pg_hba.conf" "$W/ts/pg_hba.conf"
umask 077
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$W/coord.pw"
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$W/fdw.pw"
umask 022
if PGHOST=$W/sc PGUSER=vnd "$SETUP" coordinator --role vnd_coord --db vnd_coord \
       --password-file "$W/coord.pw" --from local --hba "$W/c/pg_hba.conf" >"$W/setup-c.log" 2>&1 &&
   PGHOST=$W/sts PGPORT=$P PGUSER=vnd "$SETUP" table-server --role vnd_fdw --db vnd \
       --password-file "$W/fdw.pw" --from 127.0.0.1/32 --require-tls \
       --tls "$W/server.crt" "$W/server.key" --hba "$W/ts/pg_hba.conf" >"$W/setup-ts.log" 2>&1; then
    ok "vnd-pg-setup: the coordinator, and the table server with --tls and --require-tls"
else
    not_ok "vnd-pg-setup failed: $(tail -3 "$W"/setup-*.log)"; done_testing; exit
fi
check_eq "pg_hba.conf: no way in without TLS, then TLS from 127.0.0.1 only, before any other line" \
    "$(grep -v '^#' "$W/ts/pg_hba.conf" | head -2)" \
    "$(printf 'hostnossl vnd vnd_fdw all reject\nhostssl vnd vnd_fdw 127.0.0.1/32 scram-sha-256')"
psql_ts() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W/sts" -p "$P" -U vnd -At "$@"; }
check_eq "the table server has TLS on, with the certificate given" \
    "$(psql_ts -d postgres -c 'show ssl' -c 'show ssl_cert_file')" "$(printf 'on\n%s' "$W/server.crt")"
# the role with its password over TCP: without TLS, then with
fdw_psql() { PGPASSWORD=$(cat "$W/fdw.pw") "$PGBIN/psql" -X -At \
    "host=127.0.0.1 port=$P dbname=vnd user=vnd_fdw $1" -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' 2>&1; }
out=$(fdw_psql sslmode=disable)
check "the coordinator's role without TLS: refused by pg_hba.conf (no encryption): $out" \
    grep -q 'pg_hba.conf rejects connection for host "127.0.0.1", user "vnd_fdw", database "vnd", no encryption' <<<"$out"
check_eq "... with TLS (sslmode=require): let in, encrypted" "$(fdw_psql sslmode=require)" t

# --- a trace table in the table server's layout (its PostgreSQL store)
"$GEN" "$W/a.pcap" 3000 16 128 >/dev/null
check "vnd parse --pg fills the table server's schema alice-d1" \
    "$VND" parse -q --pg "host=$W/sts port=$P user=vnd dbname=vnd#alice-d1" A="$W/a.pcap"
n=$(psql_ts -d vnd -c 'select count(*) from "alice-d1"."A"')

# --- the coordinator, through postgres_fdw over TLS
CI="host=$W/sc dbname=vnd_coord user=vnd_coord"
co() { "$TOOL" -p "$W/coord.pw" -t 20 "$CI" "$@"; }
TS="host=127.0.0.1 port=$P dbname=vnd user=vnd_fdw"
if co server ts1 "$TS sslmode=verify-full sslrootcert=$W/ca.crt" "$W/fdw.pw" 2>"$W/err" &&
   co create alice 1 ts1:A 2>>"$W/err"; then
    ok "a foreign server with sslmode=verify-full (the test's CA), a diagnosis of alice on it"
else
    not_ok "coordinator setup: $(cat "$W/err")"; done_testing; exit
fi
check_eq "alice's query through the coordinator answers ($n rows)" \
    "$(co query alice 1 csv 'select count(*) from "A"' ts1:A 2>&1 | tail -1)" "$n"
# a query that keeps the link open (a volatile filter runs on the
# coordinator, row by row), to see it from the table server
co query alice 1 csv 'select count(*) from "A" where length(pg_sleep(0.001)::text) >= 0' ts1:A \
    >"$W/slow.csv" 2>&1 &
SLOW=$!
ssl_row=
for _ in $(seq 100); do
    ssl_row=$(psql_ts -d postgres -F ' ' -c "select s.ssl, s.version from pg_stat_ssl s join
        pg_stat_activity a using (pid) where a.usename = 'vnd_fdw' and a.client_addr = '127.0.0.1'")
    [ -n "$ssl_row" ] && break
    sleep 0.05
done
wait $SLOW
check "pg_stat_ssl on the table server: the coordinator's connection is encrypted ($ssl_row)" \
    grep -Eq '^t TLSv1\.[23]$' <<<"$ssl_row"
check_eq "... and that query answered too" "$(tail -1 "$W/slow.csv")" "$n"

# --- a coordinator that asks for no TLS, or trusts another CA: no rows
rejected() { grep -c 'pg_hba.conf rejects connection for host "127.0.0.1", user "vnd_fdw", database "vnd", no encryption' "$W/ts.log"; }
before=$(rejected)
co server ts2 "$TS sslmode=disable" "$W/fdw.pw" && co create bob 2 ts2:A
out=$(co query bob 2 csv 'select count(*) from "A"' ts2:A 2>&1); rc=$?
check "a foreign server with sslmode=disable: the query fails (exit $rc: $out)" [ "$rc" != 0 ]
check "... the table server refused it: no encryption" [ "$(rejected)" -gt "$before" ]
co server ts3 "$TS sslmode=verify-full sslrootcert=$W/other.crt" "$W/fdw.pw" && co create carol 3 ts3:A
out=$(co query carol 3 csv 'select count(*) from "A"' ts3:A 2>&1); rc=$?
check "a foreign server trusting another CA: the query fails (exit $rc: $out)" [ "$rc" != 0 ]
check "... at the handshake: the coordinator did not trust the table server's certificate" \
    grep -q "could not accept SSL connection: .*unknown ca" "$W/ts.log"
check "no sanitizer report" bash -c '! cat "$1"/asan.* 2>/dev/null | grep -q .' _ "$W"
done_testing
