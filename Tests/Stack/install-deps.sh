#!/usr/bin/env bash
# Installs the Debian packages SignalBridge needs, only those missing (apt-get update first, once).
# Run as root, or as a user with sudo.
set -euo pipefail

packages=(
  nginx spawn-fcgi libfcgi-dev libfcgi-bin libpq-dev libssl-dev libcurl4-openssl-dev pkg-config
  postgresql postgresql-contrib curl ca-certificates openssl procps iproute2 util-linux python3 python3-venv
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
