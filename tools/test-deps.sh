#!/usr/bin/env bash
# What the whole test suite needs besides the Python packages: Debian's chromium (the browser tests drive it with
# playwright-core from npm) and Node.js with npm. `make test` and CI both run this, so a new user runs the suite
# CI runs. Installs with apt-get when it can (root); otherwise says exactly what to install and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The browser tests need: ${missing[*]}. Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and run make test again." >&2
    exit 1
  fi
fi
if [ ! -d tools/browser/node_modules/playwright-core ] || [ tools/browser/package-lock.json -nt tools/browser/node_modules ]; then
  npm ci --prefix tools/browser --no-audit --no-fund --loglevel=error
fi
