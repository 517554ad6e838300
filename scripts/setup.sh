#!/usr/bin/env bash
# Installs every system dependency of medledger from Debian 12 packages.
# Idempotent: packages already present are skipped without touching apt.
# Never installs Debian's `npm` (it conflicts with the machine's Node.js).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libsodium-dev libssl-dev librocksdb-dev
  libboost-dev libboost-system-dev libboost-filesystem-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  liblua5.4-dev
  etcd-server etcd-client
  python3 python3-jsonschema
  curl ca-certificates
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# etcd-server's package starts a system etcd on 2379; the tests start their own
# on free ports, so the packaged service is stopped if it was started.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now etcd >/dev/null 2>&1 || true; fi
