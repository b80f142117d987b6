#!/usr/bin/env node
/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, or `bench/run.mjs --cpu-prof`): self time by
 * function and by package/file, so a hot spot shows without opening DevTools.
 *
 *   node bench/lib/profile-summary.mjs <file.cpuprofile|dir> [--top 25]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const top = Number(values.top);
const files = positionals.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(p, f))
    : [p],
);

function where(url) {
  if (!url) return '(native/vm)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const p = /\/(packages|apps|bench)\/(.*)$/.exec(url);
  if (p) return `${p[1]}/${p[2]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

for (const file of files) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const total = prof.samples.length;
  const ms = (prof.endTime - prof.startTime) / 1000;
  const byFn = new Map();
  const byFile = new Map();
  for (const [id, c] of counts) {
    const n = byId.get(id);
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'}  ${where(f.url)}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + c);
    const w = f.url ? where(f.url) : f.functionName.startsWith('(') ? f.functionName : '(native/vm)';
    byFile.set(w, (byFile.get(w) ?? 0) + c);
  }
  const pct = (c) => `${((c / total) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\n== ${file}: ${total} samples over ${(ms / 1000).toFixed(1)} s`);
  console.log('-- self time by package / file');
  for (const [k, c] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}  ${k}`);
  console.log('-- self time by function');
  for (const [k, c] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}  ${k}`);
}
