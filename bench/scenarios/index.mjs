/** The scenarios, in run order, and the counts each mode uses. */
import { enqueueBulk, enqueueSingle } from './enqueue.mjs';
import { drain } from './drain.mjs';
import { latency } from './latency.mjs';
import { steady } from './steady.mjs';
import { longHorizon } from './long-horizon.mjs';
import { dag } from './dag.mjs';
import { WAKEUP_SCENARIOS } from './wakeups.mjs';
import { groupsScenario } from './groups.mjs';

// `optIn`: runs only when named with --scenarios (in every mode).
export const SCENARIOS = [
  { id: 'enqueue-single', title: 'enqueue, one at a time (10 producers)', run: (ctx) => enqueueSingle(ctx) },
  { id: 'enqueue-bulk', title: 'enqueue, bulk', run: (ctx) => enqueueBulk(ctx) },
  { id: 'drain-1p', title: 'drain, 1 worker process', run: (ctx) => drain(ctx, { processes: 1 }) },
  { id: 'drain-4p', title: 'drain, 4 worker processes', run: (ctx) => drain(ctx, { processes: 4 }) },
  { id: 'latency-200', title: 'latency at 200/s', run: (ctx) => latency(ctx, { rate: 200 }) },
  { id: 'latency-2000', title: 'latency at 2,000/s', run: (ctx) => latency(ctx, { rate: 2000 }) },
  { id: 'steady', title: 'steady state', run: (ctx) => steady(ctx) },
  { id: 'long-tx', title: 'steady state with a long REPEATABLE READ transaction', run: (ctx) => steady(ctx, { longTx: true }) },
  { id: 'long-horizon', title: 'long horizon at 400/s: clean → idle in transaction → recovery', run: (ctx) => longHorizon(ctx) },
  {
    id: 'big-table',
    title: 'drain with finished + future jobs present',
    run: (ctx) => drain(ctx, { processes: 1, bigTable: ctx.params.bigTable }),
  },
  { id: 'dag', title: '1,000-node DAG', only: ['jobline'], run: (ctx) => dag(ctx) },
  // NOTIFY vs NATS wake-ups (scenarios/wakeups.mjs, issue 13): only when named.
  ...WAKEUP_SCENARIOS,
  {
    id: 'groups',
    title: 'groups: one tenant with a backlog, the rest trickling (Jobline vs pg-boss 12, grouped vs plain)',
    only: ['jobline'],
    optIn: true,
    run: (ctx) => groupsScenario(ctx),
  },
];

// Full: sized so the whole suite fits in ≤ 25 min on 2 cores (lib/estimate.mjs prints the estimate).
export const PARAMS = {
  full: {
    concurrency: 200,
    enqueueSingle: { total: 100_000, producers: 10, seconds: 10 },
    enqueueBulk: { total: 100_000, batch: 1000 },
    drain: { total: 50_000, timeoutMs: 5 * 60_000 },
    latency: { seconds: 10, timeoutMs: 120_000 },
    steady: { seconds: 20, producers: 4, batch: 100, backlogCap: 2000 },
    longHorizon: { rate: 400, cleanS: 15, idleTxS: 30, recoveryS: 15, windowS: 5, timeoutMs: 120_000 },
    bigTable: 500_000,
    dag: { nodes: 1000, width: 50, processes: 4, timeoutMs: 5 * 60_000 },
    wakeCommits: { total: 50_000, producers: 64 },
  },
  quick: {
    concurrency: 200,
    enqueueSingle: { total: 2000, producers: 10, seconds: 3 },
    enqueueBulk: { total: 10_000, batch: 1000 },
    drain: { total: 5000, timeoutMs: 60_000 },
    latency: { seconds: 1, timeoutMs: 30_000 },
    steady: { seconds: 3, producers: 4, batch: 100, backlogCap: 2000 },
    longHorizon: { rate: 400, cleanS: 1, idleTxS: 2, recoveryS: 1, windowS: 1, timeoutMs: 30_000 },
    bigTable: 20_000,
    dag: { nodes: 100, width: 10, processes: 2, timeoutMs: 60_000 },
    wakeCommits: { total: 2000, producers: 64 },
  },
};
