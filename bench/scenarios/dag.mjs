/**
 * Scenario 7 (Jobline only): one 1,000-node DAG through `jl.submitDag`, run by worker processes.
 * Shape (seeded, so every run is the same): layers of 50 no-op nodes (20 layers for 1,000); every node below the
 * first depends on 1–3 nodes of the layer above, so there is fan-out, fan-in and a critical path
 * of 20 hops. Reports nodes/s (submit → run finished) and parent → child latency from the
 * database's own clock: a child's claim (`started_at`) minus its last parent's completion
 * (`finished_at` of the parent's execution row, written by the completing statement).
 * pg-boss has no flows; BullMQ's flows are trees (a parent waits for its children), not DAGs,
 * so no peer runs this scenario.
 */
import { now, sleep } from '../lib/clock.mjs';
import { summarise } from '../lib/stats.mjs';
import { withClient } from '../lib/server.mjs';
import { spawnWorkers } from '../lib/workers.mjs';
import { QUEUE } from '../systems/jobline.mjs';
import { resetSystem } from './common.mjs';

/** mulberry32: a tiny seeded PRNG. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function layeredDag(nodes, layers, seed = 42) {
  const rand = rng(seed);
  const width = Math.ceil(nodes / layers);
  const spec = [];
  for (let i = 0; i < nodes; i++) {
    const layer = Math.floor(i / width);
    const dependsOn = new Set();
    if (layer > 0) {
      const above = spec.filter((n) => n.layer === layer - 1);
      const k = 1 + Math.floor(rand() * 3);
      while (dependsOn.size < Math.min(k, above.length)) dependsOn.add(above[Math.floor(rand() * above.length)].key);
    }
    spec.push({ key: `n${i}`, layer, queue: QUEUE, name: 'noop', input: { k: i }, dependsOn: [...dependsOn] });
  }
  return spec.map(({ layer, ...n }) => n);
}

const latencySql = `
  with n as (
    select d.key, d.depends_on, e.started_at, e.finished_at
      from jobline.dag_nodes d join jobline.job_executions e on e.job_id = d.job_id
     where d.dag_run_id = $1
  )
  select extract(epoch from c.started_at - max(p.finished_at)) * 1000 as ms
    from n c join n p on p.key = any(c.depends_on)
   group by c.key, c.started_at`;

export async function dag(ctx) {
  const { nodes, width, processes, timeoutMs } = ctx.params.dag;
  const layers = Math.max(2, Math.round(nodes / width));
  await resetSystem(ctx);
  const spec = { name: 'bench', failurePolicy: 'fail_fast', nodes: layeredDag(nodes, layers) };
  const edges = spec.nodes.reduce((a, n) => a + n.dependsOn.length, 0);
  const p = await ctx.system.producer(ctx.url);
  const workers = await spawnWorkers({ system: 'jobline', url: ctx.url, processes, concurrency: ctx.params.concurrency });
  try {
    await workers.go();
    const t0 = now();
    const run = await p.jobline.submitDag(spec);
    const submitMs = now() - t0;
    const state = await withClient(ctx.url, async (c) => {
      for (;;) {
        const { rows } = await c.query('select state from jobline.dag_runs where id = $1', [run.id]);
        if (rows[0].state !== 'running') return rows[0].state;
        if (now() - t0 > timeoutMs) throw new Error(`the DAG did not finish within ${timeoutMs} ms`);
        await sleep(5);
      }
    });
    const ms = now() - t0;
    const lat = await withClient(ctx.url, (c) => c.query(latencySql, [run.id]));
    return {
      nodes,
      edges,
      layers,
      processes,
      state,
      submitMs,
      seconds: ms / 1000,
      nodesPerSec: (nodes / ms) * 1000,
      parentChildMs: summarise(lat.rows.map((r) => Number(r.ms))),
    };
  } finally {
    await p.close().catch(() => {});
    await workers.stop().catch(() => workers.kill());
  }
}
