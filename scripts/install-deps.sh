#!/usr/bin/env bash
# Installs the system packages referral-sync needs to build, test and demo, through apt, only when missing.
# Usage: scripts/install-deps.sh [extra-package ...]
set -euo pipefail
wanted=(libpq-dev libcurl4-openssl-dev postgresql pkg-config "$@")
missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
