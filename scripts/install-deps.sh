#!/usr/bin/env bash
# Installs the Debian 12 packages kvsim needs, skipping those already present. Idempotent; uses sudo when not root.
set -euo pipefail
packages=(build-essential cmake pkg-config libsimgrid-dev libboost-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
          libgtest-dev libcli11-dev nlohmann-json3-dev gnuplot-nox libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
