/**
 * Scenario 6: a seeded random DAG runs under the SIGKILL chaos of scenario 1. Every node must
 * complete exactly once, and no attempt of a child may start before all its parents completed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from '../helpers/db.js';
import { seededRandom } from '../helpers/random.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../helpers/processes.js';
import { checkJobs, scale, summaryTable } from './checker.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
const procs: WorkerProcess[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await stopAll(procs);
  await db.close();
});

const WORKER_OPTIONS = JSON.stringify({
  heartbeatIntervalMs: 300,
  staleAfterMs: 1500,
  leaseTtlMs: 1000,
  rescueIntervalMs: 250,
  promoteIntervalMs: 100,
  backoff: { baseMs: 50, maxMs: 500 },
});

it('a random DAG under SIGKILL chaos: every node once, no child before its parents', async () => {
  const n = scale(300, 1000);
  const seed = 20261123;
  const random = seededRandom(seed);
  const nodes = Array.from({ length: n }, (_, i) => {
    const parents = new Set<string>();
    if (i > 0) for (let k = 0; k < 1 + Math.floor(random() * 3); k++) parents.add(`n${i - 1 - Math.floor(random() * Math.min(i, 8))}`); // recent parents: a deep DAG
    return { key: `n${i}`, queue: 'dagchaos', name: 'noop', input: { i }, dependsOn: [...parents], maxAttempts: 25 };
  });
  const run = await db.jl.submitDag({ name: `chaos-${seed}`, nodes });
  const env = {
    DATABASE_URL: db.url,
    JOBLINE_SCHEMA: db.schema,
    QUEUES: 'dagchaos',
    CONCURRENCY: '8',
    HANDLER_DELAY_MS: '120',
    WORKER_OPTIONS,
  };
  const live: WorkerProcess[] = [];
  const spawnOne = async () => {
    const p = await startWorkerProcess(env);
    procs.push(p);
    live.push(p);
  };
  await Promise.all(Array.from({ length: 4 }, spawnOne));
  const runState = async () => (await db.jl.getDag(run.id)).state;
  let kills = 0;
  const deadline = Date.now() + scale(120_000, 480_000);
  while ((await runState()) === 'running' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000 + Math.random() * 1000));
    if ((await runState()) !== 'running') break;
    const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0];
    victim.child.kill('SIGKILL');
    await victim.exited;
    kills++;
    await spawnOne();
  }
  await waitFor(async () => (await runState()) !== 'running', 60_000, 'the run to finish');
  await stopAll(live, 'SIGTERM');

  const detail = await db.jl.getDag(run.id);
  const ids = detail.nodes.map((x) => x.jobId);
  const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
  const S = `"${db.schema}"`;
  // Every attempt of a child started after every parent's completed attempt finished.
  const [early] = await db.sql(
    `select count(*)::int as n
       from ${S}.dag_nodes c
       join ${S}.dag_nodes p on p.dag_run_id = c.dag_run_id and p.key = any(c.depends_on)
       join ${S}.job_executions ce on ce.job_id = c.job_id
       join ${S}.job_executions pe on pe.job_id = p.job_id and pe.state = 'completed'
      where c.dag_run_id = $1 and ce.started_at < pe.finished_at`,
    [run.id],
  );
  summaryTable(`DAG under kill -9 chaos: ${n} nodes (seed ${seed}), 4 workers`, v, {
    'workers SIGKILLed': kills,
    'children started before a parent finished': early.n,
  });
  expect(detail.state).toBe('succeeded');
  expect(kills).toBeGreaterThan(0);
  expect(v.completedOnce).toBe(n);
  expect(v.duplicated).toBe(0);
  expect(v.lost + v.missingRows).toBe(0);
  expect(early.n).toBe(0);
});
