/**
 * Executors in the core (issue 16), the parts that need no container engine: a library worker
 * runs process jobs by definition; a worker records its executor kinds and resources on its
 * `workers` row and claims only jobs it can run; a job claimed before the worker knew it could
 * not run it is given back without using an attempt. Container jobs on a real engine:
 * test/containers/ (`npm run test:containers`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '@jobline/core';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

let db: TestDb;
const workers: Worker[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(() => db.close());

const start = async (w: Worker) => {
  workers.push(w);
  return w.start();
};
const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('executors', () => {
  it('validates container definitions, naming each bad field', async () => {
    const bad = async (spec: object) =>
      db.jl.createDefinition({ name: 'bad-def', ...spec } as never).then(
        () => [],
        (e) => e.issues.map((i: { path: string }) => i.path),
      );
    expect(await bad({ executor: 'container' })).toEqual(['image']);
    expect(await bad({ executor: 'process', command: 'true', image: 'localhost/x:1' })).toEqual(['image']);
    expect(await bad({ executor: 'container', image: 'localhost/x:1', resources: { cpu: 'two', memoryMb: 0.5 } })).toEqual([
      'resources.cpu',
      'resources.memoryMb',
    ]);
    expect(
      await bad({ executor: 'container', image: 'localhost/x:1', container: { pullPolicy: 'always', outputPath: 'rel/out.json' } }),
    ).toEqual(expect.arrayContaining(['container.pullPolicy', 'container.outputPath']));
    const { definition } = await db.jl.createDefinition({
      name: 'good-c',
      executor: 'container',
      image: 'localhost/x:1',
      container: { input: 'file' },
    });
    expect(definition).toMatchObject({
      executor: 'container',
      image: 'localhost/x:1',
      container: { input: 'file', pullPolicy: 'if-missing' },
    });
  });

  it('jl.worker() runs a process job by definition, with TRACEPARENT from the job in its environment', async () => {
    await db.jl.createDefinition({
      name: 'sh-echo',
      executor: 'process',
      command: 'sh',
      args: ['-c', 'read -r x; printf \'{"got":%s,"tp":"%s","attempt":%s}\' "$x" "$TRACEPARENT" "$JOBLINE_ATTEMPT"'],
      defaults: { queue: 'ex-proc' },
    });
    await start(db.jl.worker({ queues: ['ex-proc'], pollIntervalMs: 50, maintenance: false }));
    const { id } = await db.jl.enqueue({ definition: 'sh-echo', input: { a: 1 }, traceparent: TP });
    await waitFor(async () => (await db.jl.getJob(id)).state === 'completed', 15_000, 'the process job');
    expect((await db.jl.getJob(id)).output).toEqual({ got: { a: 1 }, tp: TP, attempt: 1 });
  });

  it('records executor kinds and resources on the workers row', async () => {
    const w = await start(
      db.jl.worker({ queues: ['ex-row'], maintenance: false, executors: { process: false, resources: { cpu: 2, memoryMb: 512 } } }),
    );
    const [row] = await db.sql(`select executors, resources from "${db.schema}".workers where id = $1`, [w.id]);
    expect(row).toEqual({ executors: ['handler'], resources: { cpu: 2, memoryMb: 512 } });
  });

  it('claims only jobs it can run: another kind, or more CPUs than it offers, is left for other workers', async () => {
    const q = 'ex-filter';
    await db.jl.createDefinition({ name: 'needs-container', executor: 'container', image: 'localhost/nothing:1', defaults: { queue: q } });
    await db.jl.createDefinition({ name: 'big-proc', executor: 'process', command: 'true', resources: { cpu: 8 }, defaults: { queue: q } });
    await db.jl.createDefinition({
      name: 'small-proc',
      executor: 'process',
      command: 'true',
      resources: { cpu: 1 },
      defaults: { queue: q },
    });
    // Enqueued first, so they sort ahead of the job the worker can run.
    const container = await db.jl.enqueue({ definition: 'needs-container' });
    const big = await db.jl.enqueue({ definition: 'big-proc' });
    const small = await db.jl.enqueue({ definition: 'small-proc' });
    const plain = await db.jl.enqueue({ queue: q, name: 'plain' });
    await start(
      db.jl.worker({
        queues: [q],
        pollIntervalMs: 50,
        maintenance: false,
        handlers: { plain: () => 'ok' },
        executors: { resources: { cpu: 2 } },
      }),
    );
    await waitFor(
      async () => (await db.jl.getJob(small.id)).state === 'completed' && (await db.jl.getJob(plain.id)).state === 'completed',
      15_000,
      'the runnable jobs',
    );
    for (const j of [container, big]) expect(await db.jl.getJob(j.id)).toMatchObject({ state: 'available', attempt: 0 });
    expect(await db.jl.executions(container.id)).toEqual([]);
  });

  it('gives back a job claimed before it knew the definition, without using an attempt, then filters', async () => {
    const q = 'ex-race';
    // A schema of its own: no definition beyond this worker exists when it starts, so its claims do not filter yet.
    const own = await openTestDb();
    try {
      const w = await start(own.jl.worker({ queues: [q], pollIntervalMs: 50, maintenance: false, handlers: { plain: () => 'ok' } }));
      await own.jl.createDefinition({
        name: 'late-container',
        executor: 'container',
        image: 'localhost/nothing:1',
        defaults: { queue: q, maxAttempts: 1 },
      });
      const { id } = await own.jl.enqueue({ definition: 'late-container' });
      await waitFor(async () => (await own.jl.executions(id)).length === 1, 10_000, 'the release');
      const [ex] = await own.jl.executions(id);
      expect(ex).toMatchObject({ state: 'released', workerId: w.id, error: { code: 'NOT_RUNNABLE_HERE' } });
      expect(ex.error?.message).toMatch(/does not run container jobs/);
      expect(await own.jl.getJob(id)).toMatchObject({ state: 'available', attempt: 1, maxAttempts: 2 });
      // The next claims filter: a job it can run completes while the container job stays put.
      const plain = await own.jl.enqueue({ queue: q, name: 'plain' });
      await waitFor(async () => (await own.jl.getJob(plain.id)).state === 'completed', 10_000, 'the plain job');
      expect(w.stats.released).toBe(1);
      expect(await own.jl.getJob(id)).toMatchObject({ state: 'available', attempt: 1 });
      await Promise.all(workers.splice(0).map((x) => x.stop()));
    } finally {
      await own.close();
    }
  });
});
