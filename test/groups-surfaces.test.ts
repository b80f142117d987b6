/** `group` through every way in (issue 15): DAG nodes, HTTP (single, batch, DAG), the CLI; and out: events, getJob, status. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiSchemas as S } from '@jobline/producer';
import { JobEventDataSchema } from '@jobline/contracts';
import { openTestDb, type TestDb } from './helpers/db.js';
import { startTestProducer, type TestProducer } from './fixtures/app-producer.js';
import { runJobline } from './helpers/cli.js';

let db: TestDb;
let p: TestProducer;
beforeAll(async () => {
  db = await openTestDb();
  p = await startTestProducer(db);
});
afterAll(async () => {
  await p?.close();
  await db?.close();
});

it('submitDag takes a group per node; events carry the group', async () => {
  const dag = await db.jl.submitDag({
    name: 'd',
    nodes: [
      { key: 'a', name: 'x', group: 'tenant-1' },
      { key: 'b', name: 'x', dependsOn: ['a'] },
    ],
  });
  const jobs = await db.q(`select dag_node_key, group_key from $S.jobs where dag_run_id = $1 order by dag_node_key`, [dag.id]);
  expect(jobs).toEqual([
    { dag_node_key: 'a', group_key: 'tenant-1' },
    { dag_node_key: 'b', group_key: null },
  ]);
  const [ev] = await db.q(
    `select data from $S.events e join $S.jobs j on j.id = e.job_id where j.dag_run_id = $1 and j.dag_node_key = 'a' and e.type = 'dev.jobline.job.enqueued'`,
    [dag.id],
  );
  expect(JobEventDataSchema.parse(ev.data).group).toBe('tenant-1');
  const bad = await db.jl.submitDag({ name: 'd', nodes: [{ key: 'a', name: 'x', group: 7 as never }] }).catch((e) => e);
  expect(bad.issues[0].path).toBe('nodes.0.group');
});

it('HTTP: POST /v1/jobs, batch and DAG nodes take group; GET shows it and why the job waits', async () => {
  await db.jl.updateQueue('hq', { paused: true, groupConcurrency: 2 });
  const one = await p.call('POST', '/v1/jobs', { body: { queue: 'hq', name: 'x', group: 'acme' } });
  expect(one.status).toBe(201);
  expect(S.Job.parse(one.body).group).toBe('acme');
  const got = await p.call('GET', `/v1/jobs/${(one.body as { id: number }).id}`);
  expect(S.Job.parse(got.body)).toMatchObject({ group: 'acme', waitingReason: 'queue_paused' });
  const batch = await p.call('POST', '/v1/jobs/batch', {
    body: {
      jobs: [
        { queue: 'hq', name: 'x', group: 'a' },
        { queue: 'hq', name: 'x', group: 'b' },
      ],
    },
  });
  expect(batch.status).toBe(201);
  expect(await db.q(`select group_key from $S.jobs where queue = 'hq' order by id`)).toEqual([
    { group_key: 'acme' },
    { group_key: 'a' },
    { group_key: 'b' },
  ]);
  const dag = await p.call('POST', '/v1/dags', { body: { name: 'd', nodes: [{ key: 'n', queue: 'hq', name: 'x', group: 'g-dag' }] } });
  expect(dag.status).toBe(201);
  const bad = await p.call('POST', '/v1/jobs', { body: { queue: 'hq', name: 'x', group: 12 } });
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.body)).toContain('group');
  expect((await db.q(`select count(*)::int as n from $S.jobs where queue = 'hq'`))[0].n).toBe(4);
});

it('CLI: enqueue --group, status shows the group and the waiting reason', async () => {
  await db.jl.updateQueue('cq', { paused: true });
  const r = await runJobline(db, ['enqueue', 'cq', 'x', '--group', 'tenant-9', '--json']);
  expect(r.code).toBe(0);
  const job = JSON.parse(r.stdout);
  expect(job.group).toBe('tenant-9');
  const st = await runJobline(db, ['status', String(job.id)]);
  expect(st.stdout).toMatch(/group\s+tenant-9/);
  expect(st.stdout).toMatch(/waiting\s+queue_paused/);
});
