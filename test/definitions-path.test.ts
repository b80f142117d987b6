/**
 * One definition-application path (issue 11): enqueue, a DAG node and a schedule's job template
 * naming the same definition give the same job — same name, queue, priority, attempts, timeout,
 * pinned version and input — and a bad input or an unknown definition is refused by all three
 * with the same message, each at its own path, writing nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError, type Job } from '@jobline/core';
import { openTestDb, type TestDb } from './helpers/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
  await db.jl.createDefinition({
    name: 'resize',
    executor: 'handler',
    defaults: { queue: 'images', priority: 7, maxAttempts: 4, timeoutMs: 12_000 },
    inputSchema: { type: 'object', properties: { url: { type: 'string' }, width: { type: 'integer' } }, required: ['url'] },
  });
  // A second version: the name alone pins the newest.
  await db.jl.createDefinition({
    name: 'resize',
    executor: 'handler',
    defaults: { queue: 'images', priority: 9, maxAttempts: 5, timeoutMs: 15_000 },
    inputSchema: { type: 'object', properties: { url: { type: 'string' }, width: { type: 'integer' } }, required: ['url'] },
  });
});
afterAll(() => db.close());

const SHAPE = (j: Job) => ({
  name: j.name,
  queue: j.queue,
  priority: j.priority,
  maxAttempts: j.maxAttempts,
  timeoutMs: j.timeoutMs,
  definition: j.definition,
  input: j.input,
});

/** The three entry points, each given the same job by definition; returns the job it made. */
async function viaEnqueue(job: Record<string, unknown>): Promise<Job> {
  return db.jl.enqueue(job as never);
}
async function viaDag(job: Record<string, unknown>): Promise<Job> {
  const run = await db.jl.submitDag({ name: 'one-node', nodes: [{ key: 'a', ...job }] } as never);
  return db.jl.getJob(run.nodes[0].jobId);
}
let scheduleNo = 0;
async function viaSchedule(job: Record<string, unknown>): Promise<Job> {
  const name = `defs-${scheduleNo++}`;
  // Once a year, paused: only the manual trigger below makes a run.
  await db.jl.schedules.add({ name, cron: '0 0 1 1 *', paused: true, job } as never);
  const run = await db.jl.schedules.trigger(name);
  expect(run.jobId).toBeDefined();
  return db.jl.getJob(run.jobId!);
}
const ENTRY_POINTS = { enqueue: viaEnqueue, dag: viaDag, schedule: viaSchedule };

async function issuesOf(fn: () => Promise<unknown>): Promise<{ path: string; message: string }[]> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError & { issues: { path: string; message: string }[] }).issues;
}

describe('one definition-application path', () => {
  it('enqueue, a DAG node and a schedule give the same job for the same definition', async () => {
    const job = { definition: 'resize', input: { url: 'https://example.com/a.png', width: 640 } };
    const made = { enqueue: await viaEnqueue(job), dag: await viaDag(job), schedule: await viaSchedule(job) };
    const expected = {
      name: 'resize',
      queue: 'images',
      priority: 9,
      maxAttempts: 5,
      timeoutMs: 15_000,
      definition: 'resize@2',
      input: job.input,
    };
    for (const [entry, j] of Object.entries(made)) expect(SHAPE(j), entry).toEqual(expected);
  });

  it("the job's own fields win over the definition's defaults, a pinned version takes that version's, in all three", async () => {
    const job = { definition: 'resize@1', queue: 'thumbs', priority: 1, input: { url: 'u' } };
    for (const [entry, via] of Object.entries(ENTRY_POINTS)) {
      expect(SHAPE(await via(job)), entry).toEqual({
        name: 'resize',
        queue: 'thumbs',
        priority: 1,
        maxAttempts: 4,
        timeoutMs: 12_000,
        definition: 'resize@1',
        input: { url: 'u' },
      });
    }
  });

  it('an input the schema rejects and an unknown definition get the same message at each entry point, nothing written', async () => {
    const before = await db.q('select count(*)::int as n from $S.jobs');
    const bad = await Promise.all([
      issuesOf(() => viaEnqueue({ definition: 'resize', input: { width: 'wide' } })),
      issuesOf(() => viaDag({ definition: 'resize', input: { width: 'wide' } })),
      issuesOf(() => viaSchedule({ definition: 'resize', input: { width: 'wide' } })),
    ]);
    const paths = bad.map((issues) => issues.map((i) => i.path).sort());
    expect(paths[0]).toEqual(['input.url', 'input.width']);
    expect(paths[1]).toEqual(['nodes.0.input.url', 'nodes.0.input.width']);
    expect(paths[2]).toEqual(['job.input.url', 'job.input.width']);
    // Same messages, whatever the path.
    const messages = bad.map((issues) => issues.map((i) => i.message).sort());
    expect(messages[1]).toEqual(messages[0]);
    expect(messages[2]).toEqual(messages[0]);
    expect(messages[0].every((m) => m.includes('(definition resize@2 input schema)'))).toBe(true);

    const unknown = await Promise.all([
      issuesOf(() => viaEnqueue({ definition: 'nope', input: {} })),
      issuesOf(() => viaDag({ definition: 'nope', input: {} })),
      issuesOf(() => viaSchedule({ definition: 'nope', input: {} })),
    ]);
    expect(unknown.map((issues) => issues.map((i) => i.path))).toEqual([['definition'], ['nodes.0.definition'], ['job.definition']]);
    expect(new Set(unknown.map((issues) => issues[0].message)).size).toBe(1);
    expect(unknown[0][0].message).toContain('no job definition "nope" exists');

    expect(await db.q('select count(*)::int as n from $S.jobs')).toEqual(before);
    expect(await db.q(`select count(*)::int as n from $S.schedules where name like 'defs-%'`)).toEqual([{ n: scheduleNo - 2 }]);
  });
});
