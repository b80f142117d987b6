/**
 * DAG workflows in one process: validation, atomic and idempotent submission, advancement with
 * an in-process worker (diamond, output → input, failure policies, retries, cancel, rescue) and
 * the outbox events. The multi-process proofs are in dag-processes.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError, type DagSpec, type Handlers, type Worker } from '@jobline/core';
import { withTransaction } from '@jobline/core/admin';
import { DagEventDataSchema, DAG_EVENT_NAMES } from '@jobline/contracts';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
let q: (text: string, values?: unknown[]) => Promise<any[]>;
let queueNo = 0;

beforeAll(async () => {
  db = await openTestDb({ maxInputBytes: 8192, maxDagNodes: 50, maxDagEdges: 60 });
  q = db.q;
});
/** Every DAG outbox row (of one run, or all) matches the subscribers' contract (@jobline/contracts); returns how many. */
async function expectDagEventsConform(dagRunId?: number): Promise<number> {
  const rows = await q(
    `select type, subject, job_id, dag_run_id, data from $S.events where type like 'dev.jobline.dag.%' and ($1::bigint is null or dag_run_id = $1)`,
    [dagRunId ?? null],
  );
  for (const r of rows) {
    const event = r.type.slice('dev.jobline.dag.'.length);
    expect(DAG_EVENT_NAMES).toContain(event);
    expect(r.subject).toBe(`jobline.dag.${event}.${r.dag_run_id}`);
    const data = DagEventDataSchema.parse(r.data);
    expect(data.dagRunId).toBe(r.dag_run_id);
    if (event.startsWith('node_')) expect([data.jobId, typeof data.nodeKey]).toEqual([r.job_id, 'string']);
    else expect([r.job_id, data.failurePolicy !== undefined]).toEqual([null, true]);
  }
  return rows.length;
}

afterAll(async () => {
  try {
    // Whatever the tests that ran wrote (one test alone writes few, or none).
    await expectDagEventsConform();
  } finally {
    await db.close();
  }
});

/** Each test uses its own queue so one test's worker never runs another's nodes. */
const freshQueue = () => `dag${queueNo++}`;

it("DAG outbox rows match the subscribers' contract: submitted, then cancelled", async () => {
  const queue = freshQueue();
  const run = await db.jl.submitDag({
    name: 'contract',
    nodes: [
      { key: 'a', queue, name: 'x' },
      { key: 'b', queue, name: 'x', dependsOn: ['a'] },
    ],
  });
  await db.jl.cancelDag(run.id);
  const types = (await q(`select type from $S.events where dag_run_id = $1 order by id`, [run.id])).map((r) => r.type);
  expect(types).toContain('dev.jobline.dag.run_created');
  expect(types.some((t) => t.startsWith('dev.jobline.dag.node_'))).toBe(true);
  expect(await expectDagEventsConform(run.id)).toBe(types.filter((t) => t.startsWith('dev.jobline.dag.')).length);
});

const fail = async () => {
  throw Object.assign(new Error('node failed on purpose'), { retryable: false });
};

async function withWorker<T>(queue: string, handlers: Handlers, fn: (w: Worker) => Promise<T>, extra: object = {}): Promise<T> {
  const w = db.jl.worker({
    queues: [queue],
    concurrency: 8,
    handlers,
    pollIntervalMs: 50,
    promoteIntervalMs: 20,
    backoff: { baseMs: 10, maxMs: 10, jitter: 0 },
    ...extra,
  });
  await w.start();
  try {
    return await fn(w);
  } finally {
    await w.stop();
  }
}

const runFinished = (id: number) =>
  waitFor(
    async () => {
      const d = await db.jl.getDag(id);
      return d.state !== 'running' ? d : undefined;
    },
    20_000,
    `DAG run ${id} to finish`,
  );

const nodeStates = async (id: number) => Object.fromEntries((await db.jl.getDag(id)).nodes.map((n) => [n.key, n.state]));

function validationIssues(fn: () => Promise<unknown>): Promise<{ path: string; message: string }[]> {
  return fn().then(
    () => {
      throw new Error('expected a ValidationError');
    },
    (err) => {
      expect(err).toBeInstanceOf(ValidationError);
      return err.issues;
    },
  );
}

describe('DAG validation', () => {
  const node = (key: string, dependsOn: string[] = [], extra: object = {}) => ({ key, queue: 'v', name: 'step', dependsOn, ...extra });

  it('names the cycle path', async () => {
    const issues = await validationIssues(() =>
      db.jl.submitDag({ name: 'cyclic', nodes: [node('root'), node('a', ['root', 'c']), node('b', ['a']), node('c', ['b'])] }),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toContain('a -> b -> c -> a');
    expect(issues[0].path).toBe('nodes.2.dependsOn');
  });

  it('shortens the path of a long cycle in the middle', async () => {
    const ring = Array.from({ length: 40 }, (_, i) => node(`r${i}`, [`r${(i + 39) % 40}`]));
    const [issue] = await validationIssues(() => db.jl.submitDag({ name: 'ring', nodes: ring }));
    expect(issue.message).toMatch(/cycle: (r\d+ -> ){10}… 21 more …( -> r\d+){10}/);
  });

  it('accepts a parent listed twice as one dependency', async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'dup-dep',
      nodes: [
        { key: 'a', queue, name: 'x' },
        { key: 'b', queue, name: 'x', dependsOn: ['a', 'a'] },
      ],
    });
    expect(dag.nodes[1]).toMatchObject({ dependsOn: ['a'], remainingDeps: 1 });
    expect(dag.edges).toEqual([{ from: 'a', to: 'b' }]);
  });

  it('names unknown parents, duplicate keys, self-dependencies and bad $refs, all at once', async () => {
    const issues = await validationIssues(() =>
      db.jl.submitDag({
        name: 'bad',
        nodes: [
          node('a'),
          node('a'),
          node('b', ['ghost']),
          node('c', ['c']),
          node('d', ['a'], { input: { x: { $ref: 'b.output' }, y: { $ref: 'a.outputs.z' } } }),
        ],
      }),
    );
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath['nodes.1.key']).toMatch(/duplicate key "a"/);
    expect(byPath['nodes.2.dependsOn.0']).toMatch(/unknown node "ghost"/);
    expect(byPath['nodes.3.dependsOn.0']).toMatch(/"c" depends on itself/);
    expect(byPath['nodes.4.input.x']).toMatch(/not in dependsOn of "d"/);
    expect(byPath['nodes.4.input.y']).toMatch(/malformed/);
  });

  it('rejects bad shapes with the field named', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'x', nodes: [] }, 'nodes'],
      [{ name: '', nodes: [node('a')] }, 'name'],
      [{ name: 'x', nodes: [{ key: 'a.b', name: 'step' }] }, 'nodes.0.key'],
      [{ name: 'x', nodes: [{ key: 'a' }] }, 'nodes.0.name'],
      [{ name: 'x', failurePolicy: 'sometimes', nodes: [node('a')] }, 'failurePolicy'],
      [{ name: 'x', nodes: [node('a', [], { maxAttempts: 0 })] }, 'nodes.0.maxAttempts'],
      [{ name: 'x', nodes: [node('a', [], { surprise: 1 })] }, 'nodes.0'],
    ];
    for (const [spec, path] of cases) {
      const issues = await validationIssues(() => db.jl.submitDag(spec as DagSpec));
      expect(
        issues.map((i) => i.path),
        JSON.stringify(spec),
      ).toContain(path);
    }
  });

  it('enforces the configured limits with clear errors', async () => {
    const many = Array.from({ length: 51 }, (_, i) => node(`n${i}`));
    const [tooMany] = await validationIssues(() => db.jl.submitDag({ name: 'big', nodes: many }));
    expect(tooMany).toMatchObject({ path: 'nodes' });
    expect(tooMany.message).toMatch(/51 nodes, over the limit of 50.*maxDagNodes/);

    const dense = Array.from({ length: 12 }, (_, i) =>
      node(
        `n${i}`,
        Array.from({ length: i }, (_, j) => `n${j}`),
      ),
    );
    const [tooDense] = await validationIssues(() => db.jl.submitDag({ name: 'dense', nodes: dense }));
    expect(tooDense.message).toMatch(/66 dependency edges, over the limit of 60/);

    const [big] = await validationIssues(() => db.jl.submitDag({ name: 'x', nodes: [node('a', [], { input: 'x'.repeat(9000) })] }));
    expect(big.path).toBe('nodes.0.input');
    expect(big.message).toMatch(/8192-byte limit/);
  });

  it('writes nothing when validation fails', async () => {
    const before = await q('select (select count(*) from $S.dag_runs)::int as runs, (select count(*) from $S.jobs)::int as jobs');
    await expect(db.jl.submitDag({ name: 'cyclic', nodes: [node('a', ['b']), node('b', ['a'])] })).rejects.toThrow(
      /a -> b -> a|b -> a -> b/,
    );
    const after = await q('select (select count(*) from $S.dag_runs)::int as runs, (select count(*) from $S.jobs)::int as jobs');
    expect(after).toEqual(before);
  });
});

describe('DAG submission', () => {
  it('writes the run, waiting and available node jobs, and the events in one go', async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'diamond',
      nodes: [
        { key: 'a', queue, name: 'step', input: { n: 1 }, maxAttempts: 3, priority: -5 },
        { key: 'b', queue, name: 'step', dependsOn: ['a'] },
        { key: 'c', queue, name: 'step', dependsOn: ['a'], timeoutMs: 1234 },
        { key: 'd', queue, name: 'step', dependsOn: ['b', 'c'] },
      ],
    });
    expect(dag).toMatchObject({ name: 'diamond', state: 'running', failurePolicy: 'fail_fast', nodeCount: 4, nodesDone: 0, created: true });
    expect(dag.nodes.map((n) => [n.key, n.state, n.jobState, n.remainingDeps])).toEqual([
      ['a', 'available', 'available', 0],
      ['b', 'waiting', 'waiting', 1],
      ['c', 'waiting', 'waiting', 1],
      ['d', 'waiting', 'waiting', 2],
    ]);
    expect(dag.edges).toEqual([
      { from: 'a', to: 'b' },
      { from: 'a', to: 'c' },
      { from: 'b', to: 'd' },
      { from: 'c', to: 'd' },
    ]);
    expect(dag.nodes.find((n) => n.key === 'a')!.children).toEqual(['b', 'c']);
    const a = await db.jl.getJob(dag.nodes[0].jobId);
    expect(a).toMatchObject({
      queue,
      name: 'step',
      state: 'available',
      input: { n: 1 },
      maxAttempts: 3,
      priority: -5,
      dagRunId: dag.id,
      dagNodeKey: 'a',
    });
    expect((await db.jl.getJob(dag.nodes[2].jobId)).timeoutMs).toBe(1234);

    const events = await q('select type, subject, job_id, dag_run_id, data from $S.events where dag_run_id = $1 order by id', [dag.id]);
    const dagEvents = events.filter((e) => e.type.startsWith('dev.jobline.dag.'));
    expect(dagEvents.map((e) => e.type)).toEqual(['dev.jobline.dag.run_created', 'dev.jobline.dag.node_ready']);
    expect(dagEvents[0]).toMatchObject({
      subject: `jobline.dag.run_created.${dag.id}`,
      job_id: null,
      data: { dagRunId: dag.id, name: 'diamond', state: 'running', failurePolicy: 'fail_fast' },
    });
    expect(dagEvents[1]).toMatchObject({
      subject: `jobline.dag.node_ready.${dag.id}`,
      job_id: a.id,
      data: { dagRunId: dag.id, name: 'diamond', state: 'available', nodeKey: 'a', jobId: a.id },
    });
    const enqueued = events.filter((e) => e.type === 'dev.jobline.job.enqueued');
    expect(enqueued).toHaveLength(4);
    expect(enqueued.map((e) => e.data.state).sort()).toEqual(['available', 'waiting', 'waiting', 'waiting']);
  });

  it('returns the existing run for a repeated idempotency key', async () => {
    const spec: DagSpec = { name: 'once', idempotencyKey: 'dag-key-1', nodes: [{ key: 'a', queue: freshQueue(), name: 'step' }] };
    const first = await db.jl.submitDag(spec);
    const again = await db.jl.submitDag({ ...spec, name: 'twice', nodes: [...spec.nodes, { key: 'b', name: 'step' }] });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.id).toBe(first.id);
    expect(again.name).toBe('once');
    expect(again.nodes).toHaveLength(1);
    const [{ n }] = await q(`select count(*)::int as n from $S.dag_runs where idempotency_key = 'dag-key-1'`);
    expect(n).toBe(1);
    // Concurrent submissions with one key: exactly one run.
    const racers = await Promise.all(Array.from({ length: 5 }, () => db.jl.submitDag({ ...spec, idempotencyKey: 'dag-key-2' })));
    expect(new Set(racers.map((r) => r.id)).size).toBe(1);
    expect(racers.filter((r) => r.created)).toHaveLength(1);
  });

  it("is atomic in the caller's transaction: invisible until commit, gone on rollback", async () => {
    const queue = freshQueue();
    const spec: DagSpec = {
      name: 'tx',
      nodes: [
        { key: 'a', queue, name: 'step' },
        { key: 'b', queue, name: 'step', dependsOn: ['a'] },
      ],
    };
    let rolledBack = 0;
    await expect(
      withTransaction(internals(db.jl).pool, async (tx) => {
        rolledBack = (await db.jl.submitDag(spec, { tx })).id;
        expect(await q('select 1 from $S.dag_runs where id = $1', [rolledBack])).toHaveLength(0);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await expect(db.jl.getDag(rolledBack)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const leftovers = await q(
      'select (select count(*) from $S.jobs where queue = $1)::int as jobs, (select count(*) from $S.dag_nodes where dag_run_id = $2)::int as nodes, (select count(*) from $S.events where dag_run_id = $2)::int as events',
      [queue, rolledBack],
    );
    expect(leftovers).toEqual([{ jobs: 0, nodes: 0, events: 0 }]);

    const committed = await withTransaction(internals(db.jl).pool, (tx) => db.jl.submitDag(spec, { tx }));
    expect((await db.jl.getDag(committed.id)).nodes).toHaveLength(2);
  });

  it('takes queue, name and defaults from a job definition', async () => {
    const queue = freshQueue();
    await db.jl.createDefinition({
      name: 'dag-def',
      executor: 'handler',
      defaults: { queue, maxAttempts: 7 },
      inputSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
    });
    const dag = await db.jl.submitDag({ name: 'defs', nodes: [{ key: 'a', definition: 'dag-def', input: { n: 1 } }] });
    expect(await db.jl.getJob(dag.nodes[0].jobId)).toMatchObject({ queue, name: 'dag-def', maxAttempts: 7, definition: 'dag-def@1' });
    const issues = await validationIssues(() =>
      db.jl.submitDag({
        name: 'defs',
        nodes: [
          { key: 'a', definition: 'dag-def', input: { n: 'x' } },
          { key: 'b', definition: 'nope' },
        ],
      }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['nodes.0.input.n', 'nodes.1.definition']);
  });
});

describe('DAG advancement in one process', () => {
  it('runs a diamond in dependency order and ends succeeded', async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'diamond',
      nodes: ['a', 'b', 'c', 'd'].map((key, i) => ({ key, queue, name: 'step', dependsOn: [[], ['a'], ['a'], ['b', 'c']][i] })),
    });
    const done = await withWorker(queue, { step: async (_input, ctx) => ({ key: ctx.job.dagNodeKey }) }, () => runFinished(dag.id));
    expect(done).toMatchObject({ state: 'succeeded', nodesDone: 4 });
    expect(done.finishedAt).toBeInstanceOf(Date);
    expect(done.nodes.every((n) => n.state === 'succeeded' && n.attempt === 1 && n.startedAt && n.finishedAt)).toBe(true);
    const t = Object.fromEntries(done.nodes.map((n) => [n.key, n]));
    expect(t.b.startedAt!.getTime()).toBeGreaterThanOrEqual(t.a.finishedAt!.getTime());
    expect(t.d.startedAt!.getTime()).toBeGreaterThanOrEqual(Math.max(t.b.finishedAt!.getTime(), t.c.finishedAt!.getTime()));
    const types = (
      await q(`select type, data->>'nodeKey' as key from $S.events where dag_run_id = $1 and type like 'dev.jobline.dag.%' order by id`, [
        dag.id,
      ])
    ).map((e) => `${e.type.slice(16)}${e.key ? ':' + e.key : ''}`);
    expect(types[0]).toBe('run_created');
    expect(types.at(-1)).toBe('run_succeeded');
    for (const k of ['a', 'b', 'c', 'd']) {
      expect(types.filter((x) => x === `node_ready:${k}`)).toHaveLength(1);
      expect(types.indexOf(`node_ready:${k}`)).toBeLessThan(types.indexOf(`node_succeeded:${k}`));
    }
    expect(types.indexOf('node_succeeded:a')).toBeLessThan(types.indexOf('node_ready:b'));
    expect(types.indexOf('node_succeeded:c')).toBeLessThan(types.indexOf('node_ready:d'));
    const [finished] = await q(`select subject, data from $S.events where dag_run_id = $1 and type = 'dev.jobline.dag.run_succeeded'`, [
      dag.id,
    ]);
    expect(finished).toEqual({
      subject: `jobline.dag.run_succeeded.${dag.id}`,
      data: { dagRunId: dag.id, name: 'diamond', state: 'succeeded', failurePolicy: 'fail_fast' },
    });
  });

  it("passes parents' outputs into a child's input through $ref, resolved at release", async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'refs',
      nodes: [
        { key: 'a', queue, name: 'emit', input: { x: 2, list: [10, 20], deep: { k: 'v' } } },
        { key: 'b', queue, name: 'emit', input: 5 },
        {
          key: 'c',
          queue,
          name: 'sum',
          dependsOn: ['a', 'b'],
          input: {
            values: [{ $ref: 'a.output.x' }, { $ref: 'b.output' }, { $ref: 'a.output.list.1' }],
            whole: { $ref: 'a.output' },
            schema: { $ref: '#/definitions/keepMe' },
            note: 'a.output is plain text here',
          },
        },
      ],
    });
    expect((await db.jl.getJob(dag.nodes[2].jobId)).input).toMatchObject({
      values: [{ $ref: 'a.output.x' }, { $ref: 'b.output' }, { $ref: 'a.output.list.1' }],
    });
    const seen: unknown[] = [];
    const done = await withWorker(
      queue,
      {
        emit: (input) => input,
        sum: (input: { values: number[] }) => {
          seen.push(input);
          return { total: input.values.reduce((x, y) => x + y, 0) };
        },
      },
      () => runFinished(dag.id),
    );
    expect(done.state).toBe('succeeded');
    const expected = {
      values: [2, 5, 20],
      whole: { x: 2, list: [10, 20], deep: { k: 'v' } },
      schema: { $ref: '#/definitions/keepMe' },
      note: 'a.output is plain text here',
    };
    expect(seen).toEqual([expected]);
    const c = await db.jl.getJob(dag.nodes[2].jobId);
    expect(c.input).toEqual(expected);
    expect(c.output).toEqual({ total: 27 });
  });

  it('fails a node whose $ref cannot be resolved, with a clear error, and applies the policy', async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'bad-ref',
      failurePolicy: 'continue',
      nodes: [
        { key: 'a', queue, name: 'emit', input: { x: 1 } },
        { key: 'b', queue, name: 'emit', dependsOn: ['a'], input: { y: { $ref: 'a.output.missing.deeper' } } },
        { key: 'c', queue, name: 'emit', dependsOn: ['b'] },
        { key: 'd', queue, name: 'emit', dependsOn: ['a'], input: { $ref: 'a.output.x' } },
      ],
    });
    const ran: string[] = [];
    const done = await withWorker(queue, { emit: (input, ctx) => (ran.push(ctx.job.dagNodeKey!), input) }, () => runFinished(dag.id));
    expect(done.state).toBe('failed');
    expect(await nodeStates(dag.id)).toEqual({ a: 'succeeded', b: 'failed', c: 'skipped', d: 'succeeded' });
    expect(ran.sort()).toEqual(['a', 'd']);
    const b = done.nodes.find((n) => n.key === 'b')!;
    expect(b.error).toMatchObject({ code: 'DAG_INPUT_INVALID', retryable: false });
    expect(b.error!.message).toContain('"a.output.missing.deeper"');
    expect(b.error!.message).toContain('no "missing"');
    expect((await db.jl.getJob(done.nodes[3].jobId)).output).toBe(1);
  });

  it('fail_fast: cancels every node that has not started, lets running ones finish, then fails the run', async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'ff',
      nodes: [
        { key: 'root', queue, name: 'ok' },
        { key: 'slow', queue, name: 'slow', dependsOn: ['root'] },
        { key: 'bad', queue, name: 'bad', dependsOn: ['root'] },
        { key: 'afterSlow', queue, name: 'ok', dependsOn: ['slow'] },
        { key: 'afterBad', queue, name: 'ok', dependsOn: ['bad'] },
        { key: 'other', queue, name: 'ok', dependsOn: ['root'], maxAttempts: 1 },
      ],
    });
    const slowJob = dag.nodes.find((n) => n.key === 'slow')!.jobId;
    let releaseSlow!: () => void;
    const slowGate = new Promise<void>((r) => (releaseSlow = r));
    const done = await withWorker(
      queue,
      {
        ok: () => 'ok',
        slow: () => slowGate.then(() => 'slow done'),
        // Fails only once `slow` is running, so the test knows which nodes had started.
        bad: async () => {
          await waitFor(async () => (await db.jl.getJob(slowJob)).state === 'running');
          return fail();
        },
      },
      async () => {
        await waitFor(async () => (await nodeStates(dag.id)).bad === 'failed', 20_000, 'bad to fail');
        const mid = await db.jl.getDag(dag.id);
        expect(mid.state).toBe('running'); // `slow` still runs
        expect(Object.fromEntries(mid.nodes.map((n) => [n.key, n.state]))).toMatchObject({
          slow: 'running',
          afterSlow: 'cancelled',
          afterBad: 'cancelled',
        });
        releaseSlow();
        return runFinished(dag.id);
      },
      { concurrency: 8 },
    );
    const states = Object.fromEntries(done.nodes.map((n) => [n.key, n.state]));
    expect(states).toMatchObject({ root: 'succeeded', slow: 'succeeded', bad: 'failed', afterSlow: 'cancelled', afterBad: 'cancelled' });
    // `other` was released with `slow` and `bad`: it either ran before `bad` failed or was cancelled.
    expect(['succeeded', 'cancelled']).toContain(states.other);
    expect(done).toMatchObject({ state: 'failed', nodesDone: 6 });
    const afterBad = done.nodes.find((n) => n.key === 'afterBad')!;
    expect(afterBad).toMatchObject({ jobState: 'cancelled', attempt: 0, error: { code: 'DAG_FAIL_FAST' } });
    expect(await db.jl.executions(afterBad.jobId)).toEqual([]);
    const events = (
      await q(`select type from $S.events where dag_run_id = $1 and type like 'dev.jobline.dag.%' order by id`, [dag.id])
    ).map((e) => e.type.slice(16));
    expect(events.at(-1)).toBe('run_failed');
    expect(events.filter((e) => e === 'run_failed')).toHaveLength(1);
    expect(events.filter((e) => e === 'node_cancelled').length).toBeGreaterThanOrEqual(2);
  });

  it('continue: skips only the failed node’s descendants; independent branches finish', async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'cont',
      failurePolicy: 'continue',
      nodes: [
        { key: 'r', queue, name: 'ok' },
        { key: 'f', queue, name: 'bad', dependsOn: ['r'] },
        { key: 'x', queue, name: 'ok', dependsOn: ['f'] },
        { key: 'y', queue, name: 'ok', dependsOn: ['x'] },
        { key: 'ok1', queue, name: 'ok', dependsOn: ['r'] },
        { key: 'ok2', queue, name: 'ok', dependsOn: ['ok1'] },
        { key: 'mixed', queue, name: 'ok', dependsOn: ['ok1', 'f'] },
        { key: 'last', queue, name: 'ok', dependsOn: ['mixed', 'ok2'] },
      ],
    });
    const done = await withWorker(queue, { ok: () => 'ok', bad: fail }, () => runFinished(dag.id));
    expect(Object.fromEntries(done.nodes.map((n) => [n.key, n.state]))).toEqual({
      r: 'succeeded',
      f: 'failed',
      x: 'skipped',
      y: 'skipped',
      ok1: 'succeeded',
      ok2: 'succeeded',
      mixed: 'skipped',
      last: 'skipped',
    });
    expect(done).toMatchObject({ state: 'failed', nodesDone: 8 });
    expect(done.nodes.find((n) => n.key === 'y')).toMatchObject({ jobState: 'cancelled', error: { code: 'DAG_SKIPPED' } });
    const skipped = await q(
      `select data->>'nodeKey' as key from $S.events where dag_run_id = $1 and type = 'dev.jobline.dag.node_skipped' order by 1`,
      [dag.id],
    );
    expect(skipped.map((e) => e.key)).toEqual(['last', 'mixed', 'x', 'y']);
  });

  it('releases children only when a retried parent finally succeeds', async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'retry',
      nodes: [
        { key: 'flaky', queue, name: 'flaky', maxAttempts: 3 },
        { key: 'child', queue, name: 'ok', dependsOn: ['flaky'] },
      ],
    });
    const calls: string[] = [];
    const done = await withWorker(
      queue,
      {
        flaky: (_i, ctx) => {
          calls.push(`flaky${ctx.attempt}`);
          if (ctx.attempt < 3) throw new Error('not yet');
          return 'finally';
        },
        ok: () => (calls.push('child'), 'ok'),
      },
      () => runFinished(dag.id),
    );
    expect(done.state).toBe('succeeded');
    expect(calls).toEqual(['flaky1', 'flaky2', 'flaky3', 'child']);
    expect(done.nodes[0]).toMatchObject({ attempt: 3, state: 'succeeded' });
  });

  it('cancelling one node with jl.cancel skips its descendants (continue) and ends the run cancelled', async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'cancel-one',
      failurePolicy: 'continue',
      nodes: [
        { key: 'a', queue, name: 'ok' },
        { key: 'b', queue, name: 'ok', dependsOn: ['a'] },
        { key: 'c', queue, name: 'ok' },
      ],
    });
    await db.jl.cancel(dag.nodes[0].jobId);
    expect(await nodeStates(dag.id)).toEqual({ a: 'cancelled', b: 'skipped', c: 'available' });
    const done = await withWorker(queue, { ok: () => 'ok' }, () => runFinished(dag.id));
    expect(done.state).toBe('cancelled');
    expect(await nodeStates(dag.id)).toEqual({ a: 'cancelled', b: 'skipped', c: 'succeeded' });
  });

  it('cancelDag cancels the not-started nodes, aborts running ones and ends the run cancelled', async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'cancel-all',
      nodes: [
        { key: 'a', queue, name: 'ok' },
        { key: 'long', queue, name: 'long', dependsOn: ['a'] },
        { key: 'after', queue, name: 'ok', dependsOn: ['long'] },
      ],
    });
    let aborted: unknown;
    const done = await withWorker(
      queue,
      {
        ok: () => 'ok',
        long: (_i, ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => ((aborted = ctx.signal.reason), reject(ctx.signal.reason)), { once: true }),
          ),
      },
      async (w) => {
        await waitFor(async () => (await nodeStates(dag.id)).long === 'running');
        const cancelled = await db.jl.cancelDag(dag.id);
        await waitFor(() => aborted !== undefined, 5000, 'the running handler to be aborted');
        await waitFor(() => w.inFlight === 0);
        return cancelled;
      },
    );
    expect(done).toMatchObject({ state: 'cancelled', nodesDone: 3 });
    expect(Object.fromEntries(done.nodes.map((n) => [n.key, n.state]))).toEqual({ a: 'succeeded', long: 'cancelled', after: 'cancelled' });
    expect((aborted as Error).name).toBe('CancelledError');
    const long = done.nodes.find((n) => n.key === 'long')!;
    expect((await db.jl.executions(long.jobId)).map((e) => e.state)).toEqual(['cancelled']);
    await expect(db.jl.cancelDag(dag.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(db.jl.cancelDag(987654321)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const runEvents = await q(`select type from $S.events where dag_run_id = $1 and type like 'dev.jobline.dag.run_%' order by id`, [
      dag.id,
    ]);
    expect(runEvents.map((e) => e.type)).toEqual(['dev.jobline.dag.run_created', 'dev.jobline.dag.run_cancelled']);
  });

  it("applies the policy when the leader rescues a dead worker's node into failed", async () => {
    const queue = freshQueue();
    const dag = await db.jl.submitDag({
      name: 'rescued',
      nodes: [
        { key: 'a', queue, name: 'ok', maxAttempts: 1 },
        { key: 'b', queue, name: 'ok', dependsOn: ['a'] },
      ],
    });
    // A worker that claimed `a` and died without a row: the rescuer's first pass returns it.
    await q(`update $S.jobs set state = 'running', attempt = 1, worker_id = 'ghost', started_at = now() where id = $1`, [
      dag.nodes[0].jobId,
    ]);
    const done = await withWorker(queue, { ok: () => 'ok' }, () => runFinished(dag.id), { rescueIntervalMs: 20 });
    expect(done.state).toBe('failed');
    expect(Object.fromEntries(done.nodes.map((n) => [n.key, [n.state, n.jobState]]))).toEqual({
      a: ['failed', 'failed'],
      b: ['cancelled', 'cancelled'],
    });
    expect(done.nodes[0].error).toMatchObject({ code: 'WORKER_LOST' });
  });
});

describe('DAG retention', () => {
  it('deletes finished runs older than retentionMs whole (run, nodes, jobs, history), and keeps the rest', async () => {
    const queue = freshQueue();
    const spec = (name: string, on = queue): DagSpec => ({
      name,
      nodes: [
        { key: 'a', queue: on, name: 'ok' },
        { key: 'b', queue: on, name: 'ok', dependsOn: ['a'] },
      ],
    });
    const [old, recent] = [await db.jl.submitDag(spec('old')), await db.jl.submitDag(spec('recent'))];
    const stillRunning = await db.jl.submitDag(spec('cancelled-running', freshQueue())); // no worker serves it
    await withWorker(
      queue,
      { ok: () => 'ok' },
      async (w) => {
        for (const d of [old, recent]) await runFinished(d.id);
        // A cancelled run whose running node has not finished yet: final state, but not done.
        await db.jl.cancelDag(stillRunning.id);
        await q(`update $S.jobs set state = 'running', attempt = 1, worker_id = 'elsewhere', started_at = now() where id = $1`, [
          stillRunning.nodes[0].jobId,
        ]);
        await q(`update $S.dag_runs set finished_at = now() - interval '2 hours' where id = any($1)`, [[old.id, stillRunning.id]]);
        const oldJobs = old.nodes.map((n) => n.jobId);
        expect((await q(`select count(*)::int as n from $S.job_executions where job_id = any($1)`, [oldJobs]))[0].n).toBe(2);

        await (w as unknown as { maintenance: { retention(): Promise<void> } }).maintenance.retention();

        await expect(db.jl.getDag(old.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        const left = async (table: string, col: string, ids: number[]) =>
          (await q(`select count(*)::int as n from $S.${table} where ${col} = any($1)`, [ids]))[0].n;
        expect([
          await left('jobs', 'id', oldJobs),
          await left('job_executions', 'job_id', oldJobs),
          await left('dag_nodes', 'dag_run_id', [old.id]),
        ]).toEqual([0, 0, 0]);
        expect((await db.jl.getDag(recent.id)).state).toBe('succeeded');
        expect((await db.jl.getDag(stillRunning.id)).nodes).toHaveLength(2);
      },
      { retentionMs: 3600_000 },
    );
  });
});
