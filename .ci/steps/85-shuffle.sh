#!/usr/bin/env bash
# The suite once more, in a shuffled order (files and the tests inside them) with a fixed seed
# that is printed, so an order dependence shows up as a red run that anyone can replay:
#   npx vitest run --sequence.shuffle --sequence.seed=<seed>
# The same run measures coverage (@vitest/coverage-v8) and prints the summary: one extra suite
# run in CI for both. Needs PostgreSQL (CI_DATABASE_URL, default 127.0.0.1:5432) and NATS.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CI=${CI:-true}
DB=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
SEED=${JOBLINE_SHUFFLE_SEED:-20261201}

[ -d node_modules/@vitest/coverage-v8 ] || npm ci --no-audit --no-fund
if ! pg_isready -q -d "$DB" 2>/dev/null && ! node -e "const c=new (require('pg').Client)({connectionString:process.argv[1]});c.connect().then(()=>c.end()).catch(()=>process.exit(1))" "$DB"; then
  echo "85-shuffle: PostgreSQL is not reachable at $DB" >&2
  exit 1
fi
npm run build --silent
echo "85-shuffle: vitest sequence.shuffle, seed $SEED (replay: npx vitest run --sequence.shuffle --sequence.seed=$SEED)"
DATABASE_URL=$DB npx vitest run --sequence.shuffle --sequence.seed="$SEED" --coverage --coverage.reporter=text-summary --coverage.reporter=json-summary
node -e '
  const s = require("./coverage/coverage-summary.json").total;
  console.log(`coverage (in-process code; child processes not counted): lines ${s.lines.pct}%, statements ${s.statements.pct}%, functions ${s.functions.pct}%, branches ${s.branches.pct}%`);
'
