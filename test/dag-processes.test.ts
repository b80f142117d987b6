/**
 * DAG concurrency proofs with real worker processes (DESIGN §8): four processes claim and complete
 * nodes of the same runs at once, so parents of one child complete in different processes and
 * transactions. Checked over the database afterwards: every node ran exactly once (the handlers'
 * own log), every child started only after all its parents finished (job_executions), every
 * node was released exactly once (node_ready events), and the run ended in the right state.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DagNodeSpec } from '@jobline/core';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { seededRandom } from './helpers/random.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from './helpers/processes.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/dag-worker.mjs', import.meta.url));
const PROCESSES = 4;

let db: TestDb;
let procs: WorkerProcess[] = [];
let q: (text: string, values?: unknown[]) => Promise<any[]>;

const workerEnv = () => ({
  DATABASE_URL: db.url,
  JOBLINE_SCHEMA: db.schema,
  QUEUES: 'dag',
  CONCURRENCY: '16',
  // Every process of the schema shares these: the leader's staleAfterMs judges all heartbeats.
  // 4 s keeps a CPU-starved (but alive) worker from being rescued on a loaded 2-core machine.
  WORKER_OPTIONS: JSON.stringify({ heartbeatIntervalMs: 250, staleAfterMs: 4000, rescueIntervalMs: 250 }),
});

beforeAll(async () => {
  db = await openTestDb();
  q = db.q;
  await q(`create table $S.dag_test_invocations (job_id bigint not null, node_key text, attempt int, what text not null,
             pid int not null, at timestamptz not null default clock_timestamp())`);
  // Keep every process that did start, so afterAll stops them even when another failed to.
  const started = await Promise.allSettled(Array.from({ length: PROCESSES }, () => startWorkerProcess(workerEnv(), FIXTURE)));
  procs = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
});

afterAll(async () => {
  await stopAll(procs, 'SIGTERM');
  await db.close();
});

const runFinished = (id: number, timeoutMs = 45_000) =>
  waitFor(
    async () => {
      const d = await db.jl.getDag(id);
      return d.state !== 'running' ? d : undefined;
    },
    timeoutMs,
    `DAG run ${id} to finish`,
  );

/** The invariants every successful run must satisfy, checked from the database. */
async function expectRanExactlyOnceInOrder(id: number, nodeCount: number, edgeCount: number) {
  const [inv] = await q(
    `select count(*)::int as starts, count(distinct i.job_id)::int as jobs, count(distinct i.pid)::int as pids
       from $S.dag_test_invocations i join $S.jobs j on j.id = i.job_id
      where j.dag_run_id = $1 and i.what = 'start'`,
    [id],
  );
  expect(inv.starts).toBe(nodeCount);
  expect(inv.jobs).toBe(nodeCount);

  const [hist] = await q(
    `select count(*)::int as n, count(*) filter (where e.state = 'completed' and e.attempt = 1)::int as ok
       from $S.job_executions e join $S.jobs j on j.id = e.job_id where j.dag_run_id = $1`,
    [id],
  );
  expect(hist).toEqual({ n: nodeCount, ok: nodeCount });

  // Every edge: the child's attempt started after the parent's attempt finished, and the
  // child's handler ran after the parent's job was completed.
  const [order] = await q(
    `select count(*)::int as edges,
            count(*) filter (where ce.started_at <= pe.finished_at)::int as early_starts,
            count(*) filter (where ci.at <= pj.completed_at)::int as early_handlers
       from $S.dag_nodes c
       cross join unnest(c.depends_on) as d(key)
       join $S.dag_nodes p on p.dag_run_id = c.dag_run_id and p.key = d.key
       join $S.job_executions ce on ce.job_id = c.job_id
       join $S.job_executions pe on pe.job_id = p.job_id
       join $S.jobs pj on pj.id = p.job_id
       join $S.dag_test_invocations ci on ci.job_id = c.job_id and ci.what = 'start'
      where c.dag_run_id = $1`,
    [id],
  );
  expect(order).toEqual({ edges: edgeCount, early_starts: 0, early_handlers: 0 });

  const events = await q(
    `select type, count(*)::int as n, count(distinct job_id)::int as nodes
       from $S.events where dag_run_id = $1 and type like 'dev.jobline.dag.%' group by type order by type`,
    [id],
  );
  expect(Object.fromEntries(events.map((e) => [e.type.slice(16), [e.n, e.nodes]]))).toEqual({
    node_ready: [nodeCount, nodeCount],
    node_succeeded: [nodeCount, nodeCount],
    run_created: [1, 0],
    run_succeeded: [1, 0],
  });
  const [nodes] = await q(
    `select count(*) filter (where state = 'succeeded' and remaining_deps = 0)::int as ok from $S.dag_nodes where dag_run_id = $1`,
    [id],
  );
  expect(nodes.ok).toBe(nodeCount);
  return inv.pids as number;
}

describe(`DAGs on ${PROCESSES} worker processes`, () => {
  it('runs 20 diamonds at once', async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.jl.submitDag({
          name: `diamond-${i}`,
          nodes: [
            { key: 'a', queue: 'dag', name: 'step' },
            { key: 'b', queue: 'dag', name: 'step', dependsOn: ['a'], input: { ms: 2 } },
            { key: 'c', queue: 'dag', name: 'step', dependsOn: ['a'] },
            { key: 'd', queue: 'dag', name: 'step', dependsOn: ['b', 'c'] },
          ],
        }),
      ),
    );
    for (const r of runs) {
      expect((await runFinished(r.id)).state).toBe('succeeded');
      await expectRanExactlyOnceInOrder(r.id, 4, 4);
    }
  });

  it('fans out 1 → 500 → 1 and releases the sink exactly once', async () => {
    const mids = Array.from({ length: 500 }, (_, i) => ({
      key: `m${i}`,
      queue: 'dag',
      name: 'step',
      dependsOn: ['src'],
      input: { ms: i % 3 },
    }));
    const dag = await db.jl.submitDag({
      name: 'fan',
      nodes: [
        { key: 'src', queue: 'dag', name: 'step' },
        ...mids,
        { key: 'sink', queue: 'dag', name: 'step', dependsOn: mids.map((m) => m.key) },
      ],
    });
    const done = await runFinished(dag.id);
    expect(done).toMatchObject({ state: 'succeeded', nodeCount: 502, nodesDone: 502 });
    const pids = await expectRanExactlyOnceInOrder(dag.id, 502, 1000);
    expect(pids).toBeGreaterThan(1);
    // The 500 parents of the sink were completed by several processes.
    const [byPid] = await q(
      `select count(distinct e.worker_id)::int as workers from $S.job_executions e join $S.jobs j on j.id = e.job_id
        where j.dag_run_id = $1 and j.dag_node_key like 'm%'`,
      [dag.id],
    );
    expect(byPid.workers).toBeGreaterThan(1);
  });

  it('releases each child of a dense 100 × 100 fan-in exactly once', async () => {
    const parents = Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, queue: 'dag', name: 'step' }));
    const children = Array.from({ length: 100 }, (_, i) => ({
      key: `c${i}`,
      queue: 'dag',
      name: 'step',
      dependsOn: parents.map((p) => p.key),
    }));
    const dag = await db.jl.submitDag({ name: 'dense', nodes: [...parents, ...children] });
    expect((await runFinished(dag.id)).state).toBe('succeeded');
    await expectRanExactlyOnceInOrder(dag.id, 200, 10_000);
  });

  it('finishes a seeded random 1,000-node DAG with every node run once, after all its parents', async () => {
    const seed = 20240611;
    const rnd = seededRandom(seed);
    const nodes: DagNodeSpec[] = [];
    let edges = 0;
    for (let i = 0; i < 1000; i++) {
      const parents = new Set<string>();
      const k = i === 0 ? 0 : Math.floor(rnd() * 4);
      for (let j = 0; j < k; j++) parents.add(`n${i - 1 - Math.floor(rnd() * Math.min(i, 40))}`);
      edges += parents.size;
      nodes.push({ key: `n${i}`, queue: 'dag', name: 'step', dependsOn: [...parents], input: { ms: Math.floor(rnd() * 3), value: i } });
    }
    // Submission order must not matter: shuffle (Fisher–Yates with the same generator).
    for (let i = nodes.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [nodes[i], nodes[j]] = [nodes[j], nodes[i]];
    }
    const dag = await db.jl.submitDag({ name: `random-${seed}`, nodes });
    const done = await runFinished(dag.id);
    expect(done).toMatchObject({ state: 'succeeded', nodesDone: 1000 });
    expect(done.edges).toHaveLength(edges);
    const pids = await expectRanExactlyOnceInOrder(dag.id, 1000, edges);
    expect(pids).toBeGreaterThan(1);
  });

  /** A seeded random DAG where some nodes fail; `expected` is what the continue policy must produce. */
  function failingDag(seed: number, size: number) {
    const rnd = seededRandom(seed);
    const nodes: DagNodeSpec[] = [];
    const expected: Record<string, string> = {};
    for (let i = 0; i < size; i++) {
      const parents = new Set<string>();
      const k = i === 0 ? 0 : Math.floor(rnd() * 3);
      for (let j = 0; j < k; j++) parents.add(`n${i - 1 - Math.floor(rnd() * Math.min(i, 30))}`);
      const fails = rnd() < 0.03;
      nodes.push({
        key: `n${i}`,
        queue: 'dag',
        name: fails ? 'fail' : 'step',
        dependsOn: [...parents],
        input: { ms: Math.floor(rnd() * 3) },
      });
      const blocked = [...parents].some((p) => expected[p] !== 'succeeded');
      expected[`n${i}`] = blocked ? 'skipped' : fails ? 'failed' : 'succeeded';
    }
    return { nodes, expected };
  }

  it('continue: across processes, exactly the descendants of failed nodes are skipped; the rest runs once', async () => {
    const { nodes, expected } = failingDag(424242, 300);
    const failedCount = Object.values(expected).filter((s) => s === 'failed').length;
    expect(failedCount).toBeGreaterThan(2); // the seed gives a meaningful mix
    const dag = await db.jl.submitDag({ name: 'continue-random', failurePolicy: 'continue', nodes });
    const done = await runFinished(dag.id);
    expect(done).toMatchObject({ state: 'failed', nodesDone: 300 });
    expect(Object.fromEntries(done.nodes.map((n) => [n.key, n.state]))).toEqual(expected);
    const ran = await q(
      `select j.dag_node_key as key, count(*)::int as n from $S.dag_test_invocations i join $S.jobs j on j.id = i.job_id
        where j.dag_run_id = $1 group by 1`,
      [dag.id],
    );
    const shouldRun = Object.entries(expected)
      .filter(([, s]) => s !== 'skipped')
      .map(([k]) => k);
    expect(Object.fromEntries(ran.map((r) => [r.key, r.n]))).toEqual(Object.fromEntries(shouldRun.map((k) => [k, 1])));
  });

  it('fail_fast: across processes, nodes not yet started when a node fails are cancelled and never run; the run ends failed', async () => {
    const { nodes } = failingDag(777, 300);
    const dag = await db.jl.submitDag({ name: 'ff-random', nodes });
    const done = await runFinished(dag.id);
    expect(done).toMatchObject({ state: 'failed', nodesDone: 300 });
    const states = done.nodes.map((n) => n.state);
    expect(states.filter((s) => s === 'failed').length).toBeGreaterThanOrEqual(1);
    expect(states.filter((s) => s === 'cancelled').length).toBeGreaterThan(0);
    expect(states.every((s) => ['succeeded', 'failed', 'cancelled'].includes(s))).toBe(true);
    // Cancelled nodes never ran; every node that ran has one execution, and its parents had succeeded.
    const [c] = await q(
      `select count(*) filter (where n.state = 'cancelled' and (e.job_id is not null or i.job_id is not null))::int as cancelled_but_ran,
              count(*) filter (where n.state <> 'cancelled' and e.job_id is null)::int as finished_without_running,
              count(*) filter (where n.state <> 'cancelled' and exists (
                select 1 from unnest(n.depends_on) d(key) join $S.dag_nodes p on p.dag_run_id = n.dag_run_id and p.key = d.key
                 where p.state <> 'succeeded'))::int as ran_without_parents
         from $S.dag_nodes n
         left join $S.job_executions e on e.job_id = n.job_id
         left join $S.dag_test_invocations i on i.job_id = n.job_id
        where n.dag_run_id = $1`,
      [dag.id],
    );
    expect(c).toEqual({ cancelled_but_ran: 0, finished_without_running: 0, ran_without_parents: 0 });
    const runEvents = await q(`select type from $S.events where dag_run_id = $1 and type like 'dev.jobline.dag.run_%' order by id`, [
      dag.id,
    ]);
    expect(runEvents.map((e) => e.type.slice(16))).toEqual(['run_created', 'run_failed']);
  });

  it('cancels a run mid-flight: running handlers in other processes are aborted, nothing else starts', async () => {
    const sleepers = Array.from({ length: 24 }, (_, i) => ({
      key: `s${i}`,
      queue: 'dag',
      name: 'sleep',
      dependsOn: ['root'],
      input: { ms: 30_000 },
    }));
    const dag = await db.jl.submitDag({
      name: 'cancel-mid',
      nodes: [
        { key: 'root', queue: 'dag', name: 'step' },
        ...sleepers,
        ...sleepers.map((s) => ({ key: `after-${s.key}`, queue: 'dag', name: 'step', dependsOn: [s.key] })),
      ],
    });
    const runningNow = async () =>
      (await q(`select count(*)::int as n from $S.jobs where dag_run_id = $1 and state = 'running'`, [dag.id]))[0].n as number;
    await waitFor(async () => (await runningNow()) === 24, 20_000, 'all sleepers to run');
    const cancelled = await db.jl.cancelDag(dag.id);
    expect(cancelled).toMatchObject({ state: 'cancelled', nodesDone: 49 });
    const states = Object.fromEntries(cancelled.nodes.map((n) => [n.key, n.state]));
    expect(states.root).toBe('succeeded');
    expect(
      Object.entries(states)
        .filter(([k]) => k !== 'root')
        .every(([, s]) => s === 'cancelled'),
    ).toBe(true);

    // Every running handler, spread over the processes, sees its signal abort.
    await waitFor(
      async () =>
        (
          await q(
            `select count(*)::int as n from $S.dag_test_invocations i join $S.jobs j on j.id = i.job_id where j.dag_run_id = $1 and i.what = 'aborted'`,
            [dag.id],
          )
        )[0].n === 24,
      10_000,
      'all 24 running handlers to be aborted',
    );
    const hist = await q(
      `select e.state, count(*)::int as n from $S.job_executions e join $S.jobs j on j.id = e.job_id where j.dag_run_id = $1 group by 1 order by 1`,
      [dag.id],
    );
    expect(hist).toEqual([
      { state: 'cancelled', n: 24 },
      { state: 'completed', n: 1 },
    ]);
    const after = await q(
      `select count(*)::int as n from $S.dag_test_invocations i join $S.jobs j on j.id = i.job_id where j.dag_run_id = $1 and i.node_key like 'after-%'`,
      [dag.id],
    );
    expect(after[0].n).toBe(0);
    // The late outcomes of the aborted attempts were fenced off: the run stays cancelled.
    expect((await db.jl.getDag(dag.id)).state).toBe('cancelled');
    const runEvents = await q(`select type from $S.events where dag_run_id = $1 and type like 'dev.jobline.dag.run_%' order by id`, [
      dag.id,
    ]);
    expect(runEvents.map((e) => e.type.slice(16))).toEqual(['run_created', 'run_cancelled']);
  });

  it('survives a SIGKILLed worker process: its nodes are rescued and retried, the run completes', async () => {
    // Two processes of their own on a queue of their own, so the victim surely holds nodes.
    const env = { ...workerEnv(), QUEUES: 'kill', CONCURRENCY: '8' };
    const [victim, survivor] = await Promise.all([startWorkerProcess(env, FIXTURE), startWorkerProcess(env, FIXTURE)]);
    try {
      const nodes: DagNodeSpec[] = [{ key: 'root', queue: 'kill', name: 'step' }];
      for (let i = 0; i < 16; i++) nodes.push({ key: `w${i}`, queue: 'kill', name: 'step', dependsOn: ['root'], input: { ms: 1500 } });
      nodes.push({ key: 'join', queue: 'kill', name: 'step', dependsOn: nodes.slice(1).map((n) => n.key) });
      const dag = await db.jl.submitDag({ name: 'kill', nodes });
      // Kill it while it holds running w-nodes (each runs 1.5 s, so they cannot finish first;
      // the instant root could complete between the check and the kill).
      await waitFor(
        async () =>
          (
            await q(
              `select count(*)::int as n from $S.jobs where dag_run_id = $1 and state = 'running' and worker_id = $2 and dag_node_key like 'w%'`,
              [dag.id, victim.id],
            )
          )[0].n > 0,
        20_000,
        'the victim to run nodes',
      );
      victim.child.kill('SIGKILL');
      await victim.exited;
      const done = await runFinished(dag.id);
      expect(done.state).toBe('succeeded');
      const lost = await q(
        `select count(*)::int as n from $S.job_executions e join $S.jobs j on j.id = e.job_id where j.dag_run_id = $1 and e.state = 'lost'`,
        [dag.id],
      );
      expect(lost[0].n).toBeGreaterThan(0);
      // Each node completed exactly once, and the join ran once, after every parent completed.
      const [c] = await q(
        `select count(*) filter (where e.state = 'completed')::int as completed, count(distinct e.job_id) filter (where e.state = 'completed')::int as jobs
           from $S.job_executions e join $S.jobs j on j.id = e.job_id where j.dag_run_id = $1`,
        [dag.id],
      );
      expect(c).toEqual({ completed: 18, jobs: 18 });
      const join = done.nodes.find((n) => n.key === 'join')!;
      expect(join.attempt).toBe(1);
      const lastParent = Math.max(...done.nodes.filter((n) => n.key.startsWith('w')).map((n) => n.finishedAt!.getTime()));
      expect(join.startedAt!.getTime()).toBeGreaterThanOrEqual(lastParent);
    } finally {
      await stopAll([victim, survivor], 'SIGTERM');
    }
  });
});
