#!/usr/bin/env bash
# The dashboard's browser tests (test/browser/, vitest.browser.config.ts) in Debian's Chromium
# driven by playwright-core, against the machine's PostgreSQL. Installs chromium when it is
# missing; fails (never skips) when it still is, or when PostgreSQL is unreachable.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
PG=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}

if [ ! -x "$CHROMIUM" ] && command -v apt-get >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  # dpkg may be locked by another install on a shared machine: wait for it rather than fail.
  for _ in $(seq 1 60); do
    if $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium; }; then break; fi
    sleep 5
  done
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "60-browser: Chromium is missing at $CHROMIUM: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH" >&2
  exit 1
fi
"$CHROMIUM" --headless --no-sandbox --version
node -e "const c=new (require('pg').Client)({connectionString:process.argv[1]});c.connect().then(()=>c.end(),e=>{console.error('60-browser: PostgreSQL unreachable: '+e.message);process.exit(1)})" "$PG"
DATABASE_URL=$PG CHROMIUM_PATH=$CHROMIUM npm run test:browser
