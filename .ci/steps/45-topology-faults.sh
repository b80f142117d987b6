#!/usr/bin/env bash
# Issue 13: the production-topology fault scenarios, reduced (about 1.5 min): failover to a
# synchronous standby the scenario builds from the PostgreSQL 15 binaries, and network faults
# (latency, half-open, 10 s partitions) through a TCP proxy for PostgreSQL and NATS.
# Full counts: FAULTS_SCALE=full npm run test:topology
set -euo pipefail
cd "$(dirname "$0")/../.."
LOCAL_PG=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_BIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_basebackup" ]; then
  echo "PostgreSQL 15 server binaries missing: installing postgresql-15"
  apt-get install -y postgresql-15
fi
for b in initdb pg_ctl pg_basebackup; do [ -x "$PG_BIN/$b" ] || { echo "FAIL: $PG_BIN/$b is missing"; exit 1; }; done
id postgres >/dev/null 2>&1 || { echo "FAIL: user postgres (the standby cluster runs as it) is missing"; exit 1; }
NATS_BIN=${NATS_SERVER_BIN:-/usr/sbin/nats-server}
if [ ! -x "$NATS_BIN" ]; then apt-get install -y nats-server; fi
[ -x "$NATS_BIN" ] || { echo "FAIL: nats-server is missing"; exit 1; }
node -e "const s=require('net').connect(new URL('$LOCAL_PG').port||5432,new URL('$LOCAL_PG').hostname);s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))" \
  || { echo "FAIL: PostgreSQL at $LOCAL_PG is not reachable"; exit 1; }
DATABASE_URL=$LOCAL_PG timeout 300 npm run test:topology
