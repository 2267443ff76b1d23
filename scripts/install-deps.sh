#!/usr/bin/env bash
# install-deps.sh — the Debian 12 packages VND builds, tests and demos with.
# Idempotent: installs only what is missing.  Needs root (or sudo).
set -eu
pkgs=(build-essential pkg-config clang
      libpcap-dev libsqlite3-dev libjansson-dev libmicrohttpd-dev
      libcurl4-openssl-dev libpq-dev libssl-dev
      tshark tcpdump sqlite3 curl jq python3 python3-yaml python3-jsonschema
      openvswitch-switch iproute2 ethtool iperf3 iputils-ping haproxy
      postgresql postgresql-contrib
      # tests/integration/metrics.sh reads /metrics with a well-kept parser of
      # the Prometheus text format (prometheus_client.parser); Debian's
      # prometheus package (promtool) is ~100 MB, so it is used only if present
      python3-prometheus-client
      # the web console's browser tests (tests/integration/console.sh); npm only
      # when no node came with its own (playwright-core needs node >= 20)
      chromium chromium-driver nodejs $(command -v npm >/dev/null || echo npm))
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing: ${missing[*]}"
# tshark asks whether non-root users may capture; answer no, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
