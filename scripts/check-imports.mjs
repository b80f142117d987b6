#!/usr/bin/env node
// Import-graph check (issue 11): reads every .ts/.tsx file under packages/*/src and apps/*/src,
// takes its imports with the TypeScript compiler's own pre-processor (`import … from`,
// `export … from`, `import type`, `import('…')`; the same scanner tsc uses, so no regex guesses),
// and fails (exit 1) on
//   - a cycle between files (Tarjan's strongly connected components; type-only imports count too),
//   - a cycle between folders (folder = first directory under src/; root files are the facade),
//   - an import from a lower rank to a higher one in packages/core (RANKS below),
//   - a folder or root file of packages/core that RANKS does not list,
//   - a package importing a later package (PACKAGE_ORDER), an app importing another app,
//   - an import of `@jobline/<pkg>/<path>` that is not in that package's `exports` map,
//   - a relative import that leaves its own package's src/.
// Usage: node scripts/check-imports.mjs [--json] [--root <dir>]   (npm run check:imports)
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// ---------------------------------------------------------------------------------------------
// Layers of packages/core/src — the one place they are written down (mirrors the team's rule).
// A file may import only files of the same or a lower rank. Keys are folders directly under src/,
// or root files of src/ that sit below the facade. Any other root file is the facade (FACADE).
// A new folder must be added here, with the rank it needs, before the check passes.
const RANKS = {
  model: 0, // states as const objects, row types, mapping
  lib: 0, // pure helpers (backoff, …)
  db: 1,
  observability: 1,
  'logger.ts': 1,
  'version.ts': 1,
  // Shared zod primitives (JobSpec, parseOrThrow, durations): imported by 25 files of ranks 1–5 and
  // importing only db/errors.ts, so it sits with db rather than in the facade.
  'schemas.ts': 1,
  definitions: 2,
  events: 2,
  executors: 2,
  queue: 3,
  dag: 4,
  schedule: 4,
  worker: 5,
  node: 6, // hosts leader services (maintenance, relay, scheduler)
  // Root facade files; listed so one of them can be moved lower by changing its number here.
  'jobline.ts': 7,
  'index.ts': 7,
  'typed-jobs.ts': 7,
  'topology.ts': 7,
};
const FACADE = '(facade)';
const FACADE_RANK = 7;
// The package whose src/ folders RANKS describes.
const RANKED_PACKAGE = 'packages/core';
// Package order: a package may import only packages before it (apps come last and never import
// each other). Directory names under packages/ and apps/.
const PACKAGE_ORDER = ['packages/contracts', 'packages/embedded', 'packages/core', 'packages/testing'];
// ---------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const rootArg = args.indexOf('--root');
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(rootArg >= 0 ? args[rootArg + 1] : join(here, '..'));

const posix = (p) => p.split(sep).join('/');
const rel = (p) => posix(relative(root, p));

/** Workspace packages with a src/ folder: { dir: 'packages/core', name, exports, src }. */
function findPackages() {
  const out = [];
  for (const group of ['packages', 'apps']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base).sort()) {
      const src = join(base, entry, 'src');
      if (!existsSync(src) || !statSync(src).isDirectory()) continue;
      let manifest = {};
      const manifestPath = join(base, entry, 'package.json');
      if (existsSync(manifestPath)) manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      out.push({ dir: `${group}/${entry}`, isApp: group === 'apps', name: manifest.name, exports: manifest.exports, src });
    }
  }
  return out;
}

function listSources(dir) {
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    else if (/\.tsx?$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The subpaths a package exports ('.', './main', …); undefined exports = only '.'. */
function exportedSubpaths(exp) {
  if (exp === undefined) return ['.'];
  if (typeof exp === 'string' || Array.isArray(exp)) return ['.'];
  const keys = Object.keys(exp);
  return keys.some((k) => k.startsWith('.')) ? keys : ['.'];
}

function subpathAllowed(subpath, allowed) {
  return allowed.some((key) => {
    if (!key.includes('*')) return key === subpath;
    const [pre, post] = key.split('*');
    return subpath.startsWith(pre) && subpath.endsWith(post);
  });
}

/** Resolves a relative specifier the way NodeNext does for our sources (.js written, .ts on disk). */
function resolveRelative(fromFile, spec, known) {
  const base = resolve(dirname(fromFile), spec);
  const stem = base.replace(/\.(m|c)?jsx?$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')];
  return candidates.find((c) => known.has(c));
}

const packages = findPackages();
const byName = new Map(packages.filter((p) => p.name).map((p) => [p.name, p]));
const files = new Map(); // abs path -> { pkg, lines, folder, rank }
for (const pkg of packages) {
  for (const path of listSources(pkg.src)) {
    const text = readFileSync(path, 'utf8');
    const inSrc = posix(relative(pkg.src, path)).split('/');
    let folder = inSrc.length > 1 ? inSrc[0] : FACADE;
    let rank;
    if (pkg.dir === RANKED_PACKAGE) {
      if (inSrc.length === 1 && Object.hasOwn(RANKS, inSrc[0]) && RANKS[inSrc[0]] < FACADE_RANK) folder = inSrc[0];
      rank = folder === FACADE ? (RANKS[inSrc[0]] ?? FACADE_RANK) : RANKS[folder];
    }
    files.set(path, { pkg, text, lines: text.split('\n').length, folder, rank });
  }
}

const offences = [];
const offend = (kind, message) => offences.push({ kind, message });
const edges = new Map([...files.keys()].map((f) => [f, []])); // abs -> [{ to, type }]
let importCount = 0;
let packageImports = 0;

for (const pkg of packages) {
  if (pkg.dir !== RANKED_PACKAGE) continue;
  for (const [path, f] of files) {
    if (f.pkg === pkg && f.rank === undefined) {
      offend(
        'unknown-folder',
        `${rel(path)}: folder '${f.folder}' is not in RANKS — add it to the rank table at the top of scripts/check-imports.mjs`,
      );
    }
  }
}

for (const [path, f] of files) {
  const info = ts.preProcessFile(f.text, true, true);
  for (const { fileName: spec } of info.importedFiles) {
    importCount++;
    if (spec.startsWith('.')) {
      const target = resolveRelative(path, spec, files);
      if (!target) {
        // An import of a non-source file (JSON, CSS) inside the package is not a module edge.
        const abs = resolve(dirname(path), spec);
        if (!posix(abs).startsWith(posix(f.pkg.src) + '/'))
          offend('outside-package', `${rel(path)} imports '${spec}', which is outside ${f.pkg.dir}/src — import the package by name`);
        continue;
      }
      const t = files.get(target);
      if (t.pkg !== f.pkg) {
        offend('outside-package', `${rel(path)} imports '${spec}' (${rel(target)}) across packages — import '${t.pkg.name}' instead`);
        continue;
      }
      const typeOnly = isTypeOnly(f.text, spec);
      edges.get(path).push({ to: target, spec, typeOnly });
      if (f.rank !== undefined && t.rank !== undefined && t.rank > f.rank) {
        offend(
          'rank',
          `${rel(path)} [${f.folder}, rank ${f.rank}] imports ${rel(target)} [${t.folder}, rank ${t.rank}]${typeOnly ? ' (type-only)' : ''}: a lower layer may not import a higher one`,
        );
      }
      continue;
    }
    const m = /^(@jobline\/[^/]+)(\/.*)?$/.exec(spec);
    if (!m) continue; // node: builtins and third-party packages
    packageImports++;
    const target = byName.get(m[1]);
    if (!target) {
      offend('unknown-package', `${rel(path)} imports '${spec}': no workspace package is called ${m[1]}`);
      continue;
    }
    if (target === f.pkg) {
      offend('self-import', `${rel(path)} imports its own package by name ('${spec}') — use a relative import`);
      continue;
    }
    const subpath = m[2] ? `.${m[2]}` : '.';
    if (!subpathAllowed(subpath, exportedSubpaths(target.exports))) {
      offend(
        'not-exported',
        `${rel(path)} imports '${spec}': '${subpath}' is not in the exports map of ${target.name} (${target.dir}/package.json)`,
      );
    }
    if (f.pkg.isApp && target.isApp) {
      offend('app-imports-app', `${rel(path)} imports '${spec}': apps never import each other (${f.pkg.dir} → ${target.dir})`);
      continue;
    }
    const from = f.pkg.isApp ? PACKAGE_ORDER.length : PACKAGE_ORDER.indexOf(f.pkg.dir);
    const to = target.isApp ? PACKAGE_ORDER.length : PACKAGE_ORDER.indexOf(target.dir);
    if (from < 0 || to < 0) {
      offend(
        'unknown-package',
        `${rel(path)} imports '${spec}': ${from < 0 ? f.pkg.dir : target.dir} is not in PACKAGE_ORDER — add it in scripts/check-imports.mjs`,
      );
    } else if (to > from) {
      const extra = f.pkg.dir === 'packages/contracts' && target.dir === 'packages/core' ? ' (contracts must not depend on core)' : '';
      offend('package-order', `${rel(path)} imports '${spec}': ${f.pkg.dir} comes before ${target.dir} in the package order${extra}`);
    }
  }
}

/** True when every import of `spec` in the file is `import type` / `export type`. */
function isTypeOnly(text, spec) {
  const quoted = spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|\\n)\\s*(import|export)\\s+(type\\s+)?[^;]*?from\\s*['"]${quoted}['"]`, 'g');
  let any = false;
  for (const m of text.matchAll(re)) {
    any = true;
    if (!m[3]) return false;
  }
  if (new RegExp(`import\\(\\s*['"]${quoted}['"]`).test(text)) return false;
  return any;
}

// Tarjan's strongly connected components (iterative, so deep chains do not overflow the stack).
function tarjan(nodes, next) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const sccs = [];
  for (const start of nodes) {
    if (idx.has(start)) continue;
    const work = [[start, 0]];
    idx.set(start, index);
    low.set(start, index++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      const succ = next(v);
      if (i < succ.length) {
        frame[1]++;
        const w = succ[i];
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === idx.get(v)) {
        const scc = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          scc.push(w);
        } while (w !== v);
        if (scc.length > 1 || next(v).includes(v)) sccs.push(scc.reverse());
      }
    }
  }
  return sccs;
}

/** Shortest path from `from` to `to` using only nodes of the component (breadth-first). */
function shortestPath(from, to, inside, next) {
  const prev = new Map([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const v = queue.shift();
    if (v === to) {
      const path = [v];
      while (prev.get(path[0]) !== null) path.unshift(prev.get(path[0]));
      return path;
    }
    for (const w of next(v)) {
      if (inside.has(w) && !prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}

/**
 * Cycles that together use every edge inside one component: for each edge u→v not yet covered,
 * u→v plus the shortest way back v→…→u. Every import that keeps the component tangled is named.
 */
function coveringCycles(members, next) {
  const inside = new Set(members);
  const covered = new Set();
  const cycles = [];
  for (const u of members) {
    for (const v of next(u)) {
      if (!inside.has(v) || covered.has(`${u}\0${v}`)) continue;
      const back = u === v ? [u] : shortestPath(v, u, inside, next);
      const cycle = [u, ...back];
      for (let i = 0; i + 1 < cycle.length; i++) covered.add(`${cycle[i]}\0${cycle[i + 1]}`);
      cycles.push(cycle);
    }
  }
  return cycles;
}

const fileNext = (f) => [...new Set(edges.get(f).map((e) => e.to))];
const fileCycles = tarjan([...files.keys()], fileNext).map((scc) => ({
  files: scc.map(rel),
  cycles: coveringCycles(scc, fileNext).map((c) => c.map(rel)),
}));
for (const c of fileCycles) {
  offend(
    'file-cycle',
    `file cycle among ${c.files.length} files (${c.files.join(', ')}):\n${c.cycles.map((cy) => `      ${cy.join(' → ')}`).join('\n')}`,
  );
}

// Folder graph, per package: node = '<pkg>/src/<folder>', edge = some file imports a file of the
// other. In packages/core the root files not ranked below the facade form one facade folder; in
// the other packages (no rank table) each root file is its own node, so an app's entry file and
// the helpers its folders share are not reported as a cycle unless they really import back.
const folderOf = (f, path) => {
  if (f.pkg.dir !== RANKED_PACKAGE && f.folder === FACADE) return posix(relative(root, path));
  return `${f.pkg.dir}/src/${f.folder}`;
};
const folderEdges = new Map(); // node -> Map(node -> ['a.ts → b.ts', …])
for (const [path, f] of files) {
  const from = folderOf(f, path);
  if (!folderEdges.has(from)) folderEdges.set(from, new Map());
  for (const e of edges.get(path)) {
    const to = folderOf(files.get(e.to), e.to);
    if (to === from) continue;
    const m = folderEdges.get(from);
    if (!m.has(to)) m.set(to, []);
    m.get(to).push(`${rel(path)} → ${rel(e.to)}`);
  }
}
const folderNext = (n) => [...(folderEdges.get(n)?.keys() ?? [])];
const folderCycles = tarjan([...folderEdges.keys()], folderNext).map((scc) => ({
  folders: scc,
  cycles: coveringCycles(scc, folderNext).map((cycle) => ({
    cycle,
    via: cycle.slice(0, -1).map((from, i) => ({ from, to: cycle[i + 1], imports: folderEdges.get(from).get(cycle[i + 1]) })),
  })),
}));
for (const c of folderCycles) {
  // One line per cycle; each step names one importing file (+ how many more do the same).
  const lines = c.cycles.map(({ cycle, via }) => {
    const steps = via.map((v) => `${v.imports[0]}${v.imports.length > 1 ? ` (+${v.imports.length - 1})` : ''}`);
    return `      ${cycle.join(' → ')}\n          via ${steps.join('; ')}`;
  });
  offend('folder-cycle', `folder cycle among ${c.folders.length} folders (${c.folders.join(', ')}):\n${lines.join('\n')}`);
}

const largest = [...files]
  .map(([path, f]) => ({ file: rel(path), lines: f.lines }))
  .sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file))
  .slice(0, 10);
const over300 = [...files].filter(([, f]) => f.pkg.dir === RANKED_PACKAGE && f.lines > 300).length;
const edgeCount = [...edges.values()].reduce((n, list) => n + list.length, 0);
const summary = {
  root,
  packages: packages.length,
  files: files.size,
  folders: folderEdges.size,
  imports: importCount,
  fileEdges: edgeCount,
  packageImports,
  coreFilesOver300Lines: over300,
  largest,
  offences,
};

if (asJson) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  console.log(
    `import graph: ${summary.packages} packages, ${summary.files} files, ${summary.folders} folder nodes, ${summary.fileEdges} file→file imports, ${summary.packageImports} @jobline/* imports (${summary.imports} import specifiers in all)`,
  );
  console.log('largest files (lines):');
  for (const l of largest) console.log(`  ${String(l.lines).padStart(5)}  ${l.file}`);
  console.log(`files in ${RANKED_PACKAGE}/src over 300 lines: ${over300}`);
  if (offences.length === 0) console.log('ok: no file cycles, no folder cycles, no layer or package violations');
  else {
    const kinds = {};
    for (const o of offences) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
    console.log(
      `\n${offences.length} offences (${Object.entries(kinds)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ')}):`,
    );
    for (const o of offences) console.log(`  [${o.kind}] ${o.message}`);
  }
}
process.exit(offences.length === 0 ? 0 : 1);
