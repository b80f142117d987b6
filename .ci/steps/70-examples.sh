#!/usr/bin/env bash
# The example application's tests against the packed packages: `npm pack` @jobline/contracts,
# embedded, core and testing, install the tarballs into a temporary copy of examples/<app> (as an
# application outside this repository would), and run its test suite (node:test and vitest).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
: "${DATABASE_URL:=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}"
export DATABASE_URL
if ! node -e "const c=new (require('pg').Client)(process.env.DATABASE_URL);c.connect().then(()=>c.end(),e=>{console.error(e.message);process.exit(1)})"; then
  echo "70-examples: PostgreSQL at DATABASE_URL is not reachable" >&2
  exit 1
fi
npm run build --silent
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/packs"
npm pack --silent --pack-destination "$tmp/packs" -w packages/contracts -w packages/embedded -w packages/core -w packages/testing >/dev/null
ls "$tmp/packs"
for app in examples/*/; do
  app=${app%/}
  name=$(basename "$app")
  echo "--- examples/$name"
  cp -r "$app" "$tmp/$name"
  rm -rf "$tmp/$name/node_modules"
  (
    cd "$tmp/$name"
    # Point the @jobline/* dependencies at the tarballs (the packages are not on a registry);
    # @jobline/contracts and @jobline/embedded become direct dependencies so that the "0.1.0"
    # ranges of core and testing resolve to them.
    node -e '
      const fs = require("fs"), path = require("path");
      const packs = process.argv[1];
      const tgz = (n) => "file:" + path.join(packs, fs.readdirSync(packs).find((f) => f.startsWith("jobline-" + n + "-")));
      const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
      p.dependencies = { ...p.dependencies, "@jobline/contracts": tgz("contracts"), "@jobline/embedded": tgz("embedded"), "@jobline/core": tgz("core") };
      if (p.devDependencies?.["@jobline/testing"] || p.dependencies["@jobline/testing"]) (p.devDependencies ??= {})["@jobline/testing"] = tgz("testing");
      fs.writeFileSync("package.json", JSON.stringify(p, null, 2));
    ' "$tmp/packs"
    npm install --no-audit --no-fund --prefer-offline --loglevel=error
    # The packed core carries its migrations (inside the package, where MIGRATIONS_DIR looks).
    dir=$(node --input-type=module -e "import { MIGRATIONS_DIR } from '@jobline/core/admin'; console.log(MIGRATIONS_DIR)")
    if ! ls "$dir"/0001_*.sql >/dev/null 2>&1; then
      echo "70-examples: the packed @jobline/core has no migrations in $dir" >&2
      exit 1
    fi
    # Only the packed packages: nothing may resolve into the repository.
    node --input-type=module -e "
      const r = (s) => import.meta.resolve(s);
      for (const s of ['@jobline/core', '@jobline/testing']) if (r(s).includes('$ROOT/')) { console.error(s + ' resolves into the repository: ' + r(s)); process.exit(1); }"
    npm test
  )
done
echo "70-examples: passed"
