#!/usr/bin/env bash
# docs/schema.md is generated from the migrations (`npm run schema:docs`): regenerate it from a
# freshly migrated temporary schema and fail when the committed file differs.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}"
export DATABASE_URL
if ! node -e "const c=new (require('pg').Client)(process.env.DATABASE_URL);c.connect().then(()=>c.end(),e=>{console.error(e.message);process.exit(1)})"; then
  echo "30-schema-docs: PostgreSQL at DATABASE_URL is not reachable" >&2
  exit 1
fi
[ -f apps/cli/dist/main.js ] || npm run build --silent
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node apps/cli/dist/main.js schema docs --fresh --out "$tmp/schema.md" >/dev/null
if ! diff -u docs/schema.md "$tmp/schema.md"; then
  echo "30-schema-docs: docs/schema.md is stale: run \`DATABASE_URL=… npm run schema:docs\` and commit it" >&2
  exit 1
fi
echo "30-schema-docs: docs/schema.md is current"
