#!/usr/bin/env bash
# Issue 13: the whole `npm test` once more through PgBouncer in transaction mode (Debian's
# package, installed when missing), on its own port with its own config dir, in front of the
# PostgreSQL at 127.0.0.1:5432. DATABASE_URL = the pooler; JOBLINE_DIRECT_URL = direct (LISTEN,
# migrations). Then the drain exactly-once counts through the pooler. Our pgbouncer is killed by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
PG_HOST=127.0.0.1 PG_PORT=5432
DIRECT=${CI_DATABASE_URL:-postgres://postgres@$PG_HOST:$PG_PORT/test}

if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "pgbouncer missing: installing Debian's package"
  for i in $(seq 1 60); do (apt-get install -y pgbouncer && break) || sleep 5; done
fi
PGB=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$PGB" ] || { echo "FAIL: pgbouncer is not installed"; exit 1; }
pg_isready -h $PG_HOST -p $PG_PORT >/dev/null 2>&1 || node -e "
  const s=require('net').connect($PG_PORT,'$PG_HOST');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))" \
  || { echo "FAIL: PostgreSQL at $PG_HOST:$PG_PORT is not reachable"; exit 1; }

DIR=$(mktemp -d /tmp/jobline-pgbouncer.XXXXXX)
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
cat >"$DIR/userlist.txt" <<UL
"postgres" ""
UL
cat >"$DIR/hba.conf" <<HBA
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
cat >"$DIR/pgbouncer.ini" <<INI
[databases]
* = host=$PG_HOST port=$PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
; postgres by trust (as the server does); other roles (the least-privilege tests create some) by
; SCRAM against their secret fetched with auth_query, which PgBouncer then passes on to the server.
auth_type = hba
auth_hba_file = $DIR/hba.conf
auth_file = $DIR/userlist.txt
auth_user = postgres
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 30
reserve_pool_size = 5
server_reset_query =
admin_users = postgres
ignore_startup_parameters = extra_float_digits
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
INI
# pgbouncer refuses to run as root; the file owner of its dir is postgres when we are root.
if [ "$(id -u)" = 0 ]; then chown -R postgres "$DIR"; RUN=(setpriv --reuid=postgres --regid=postgres --init-groups); else RUN=(); fi
"${RUN[@]}" "$PGB" -d "$DIR/pgbouncer.ini"
for i in $(seq 1 50); do [ -s "$DIR/pgbouncer.pid" ] && break; sleep 0.1; done
PGB_PID=$(cat "$DIR/pgbouncer.pid")
cleanup() { kill "$PGB_PID" 2>/dev/null || true; }
trap cleanup EXIT
POOLED=postgres://postgres@127.0.0.1:$PORT/test
echo "pgbouncer $("$PGB" --version | head -1) pid $PGB_PID on port $PORT (transaction mode) → $PG_HOST:$PG_PORT"

echo "--- npm test through the pooler (DATABASE_URL=pgbouncer, JOBLINE_DIRECT_URL=direct)"
DATABASE_URL=$POOLED JOBLINE_DIRECT_URL=$DIRECT npm test

echo "--- drain exactly-once counts through the pooler (the checker table)"
DATABASE_URL=$POOLED JOBLINE_DIRECT_URL=$DIRECT npx vitest run test/pooler.test.ts

echo "--- pgbouncer stats"
psql -h 127.0.0.1 -p "$PORT" -U postgres pgbouncer -c 'show pools' || true
