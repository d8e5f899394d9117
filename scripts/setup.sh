#!/usr/bin/env bash
# Set-up on a fresh Debian/Ubuntu machine: system packages that are missing, then npm ci.
# Needs Node.js >= 20 with npm. Uses sudo for apt when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js >= 20 is required (https://nodejs.org or your distribution's nodejs package)" >&2
  exit 1
fi
node -e 'if (+process.versions.node.split(".")[0] < 20) { console.error("setup: Node.js >= 20 is required, found " + process.version); process.exit(1) }'

need_apt=()
command -v xvfb-run >/dev/null 2>&1 || need_apt+=(xvfb xauth)
dpkg -s libgl1-mesa-dri >/dev/null 2>&1 || need_apt+=(libgl1-mesa-dri libglx-mesa0 libegl-mesa0)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# Browser tests run the bundle in Debian's Chromium (skipped from set-up with NBF_NO_CHROMIUM=1).
if [ -z "${NBF_NO_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
