/**
 * Experiment, not part of a run: rewrites @jobline/core's claim statement at load time so the
 * UPDATE finds its rows with `j.id = any(array(select id from next))` instead of joining `next`.
 * The prepared statement's generic plan can't size `limit $2`; once statistics show a large
 * backlog it hash-joins a sequential scan of the whole jobs table (28–50 ms per claim instead of
 * 4–8 ms). Measured with this hook: steady state 7.2k → 13.7–14.3k jobs/s.
 *
 *   NODE_OPTIONS="--import ./bench/experiments/claim-any-array.mjs" node bench/run.mjs --systems jobline --scenarios steady
 */
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

export async function load(url, context, next) {
  const r = await next(url, context);
  if (!url.endsWith('/core/dist/queue/claim.js')) return r;
  const src = String(r.source).replace('from next where j.id = next.id', 'where j.id = any(array(select id from next))');
  if (src === String(r.source)) throw new Error('claim-any-array: the claim statement changed; update this experiment');
  return { ...r, source: src };
}
