/**
 * Another, already built Jobline checkout side by side with this tree's (issue 11's before/after):
 * `--baseline <dir>` or JOBLINE_BASELINE_DIR, the root of a checkout with its own node_modules
 * and built packages/core/dist (bench/README.md, "Baseline"). Same settings as `jobline`, Node 24.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeJobline } from './jobline.mjs';

const dir = process.env.JOBLINE_BASELINE_DIR;
if (!dir) throw new Error('jobline@baseline needs --baseline <dir> (or JOBLINE_BASELINE_DIR): an already built Jobline checkout');
const coreDir = join(resolve(dir), 'packages', 'core');
if (!existsSync(join(coreDir, 'dist', 'index.js'))) {
  throw new Error(`jobline@baseline: ${coreDir}/dist/index.js is missing; build that checkout first (npm ci && npm run build there)`);
}

export default makeJobline({
  name: 'jobline@baseline',
  label: 'Jobline baseline',
  coreDir,
});
