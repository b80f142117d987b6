/**
 * One event vocabulary (issue 11): the outbox SQL renders event types and subjects from
 * `@jobline/contracts`' builders, so the rows it writes equal `jobEventType`/`jobSubject` and
 * `dagEventType`/`dagSubject` for every event kind; the row's id column the envelope's subject is
 * taken from is always set; and the one envelope builder gives the relay's JSON and the tail's
 * object alike, valid under the contracts' schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DAG_EVENT_NAMES,
  JOB_EVENT_NAMES,
  JoblineEventSchema,
  dagEventType,
  dagSubject,
  jobEventType,
  jobSubject,
} from '@jobline/contracts';
import type { Handlers } from '@jobline/core';
import { quoteSchema } from '@jobline/core/admin';
import { internals } from '@jobline/core/internal';
import { insertJobEvents } from '../packages/core/dist/events/outbox.js';
import { insertDagEvents } from '../packages/core/dist/dag/events.js';
import { envelopeJson, toEnvelope } from '../packages/core/dist/events/envelope.js';
import { readOutbox } from '../packages/core/dist/events/outbox-read.js';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

let db: TestDb;
let s: string;
beforeAll(async () => {
  db = await openTestDb();
  s = quoteSchema(db.schema);
});
afterAll(() => db.close());

interface EventRow {
  id: number;
  type: string;
  subject: string;
  job_id: number | null;
  dag_run_id: number | null;
  data: Record<string, unknown>;
  created_at: Date;
}
const eventsAfter = (id: number) => db.q<EventRow>(`select * from $S.events where id > $1 order by id`, [id]);
const lastId = async () => (await db.q<{ id: number }>(`select coalesce(max(id), 0)::int as id from $S.events`))[0]!.id;

/** A row's type and subject must be what the contracts' builders give for its event. */
function expectContractShape(r: EventRow) {
  const data = r.data as { queue?: string; jobId?: number; dagRunId?: number };
  if (r.type.startsWith('dev.jobline.job.')) {
    const event = r.type.slice('dev.jobline.job.'.length);
    expect(JOB_EVENT_NAMES).toContain(event);
    expect(r.type).toBe(jobEventType(event as never));
    expect(r.job_id, `${r.type}: job_id set`).not.toBeNull();
    expect(r.subject).toBe(jobSubject(data.queue!, event as never, r.job_id!));
    expect(data.jobId).toBe(r.job_id);
  } else {
    const event = r.type.slice('dev.jobline.dag.'.length);
    expect(DAG_EVENT_NAMES).toContain(event);
    expect(r.type).toBe(dagEventType(event as never));
    expect(r.dag_run_id, `${r.type}: dag_run_id set`).not.toBeNull();
    expect(r.subject).toBe(dagSubject(event as never, r.dag_run_id!));
    expect(data.dagRunId).toBe(r.dag_run_id);
  }
}

describe('the outbox SQL renders types and subjects from @jobline/contracts', () => {
  it('for every job event name', async () => {
    const [job] = await db.jl.enqueueMany([{ queue: 'vocab-q', name: 'x', input: { a: 1 } }]);
    const from = await lastId();
    await db.sql(
      insertJobEvents(
        s,
        `(select j.*, x.event, now() as finished_at, null::float8 as duration_ms
            from ${s}.jobs j cross join unnest($1::text[]) x(event) where j.id = $2)`,
      ),
      [JOB_EVENT_NAMES, job!.id],
    );
    const rows = await eventsAfter(from);
    expect(rows.map((r) => r.type).sort()).toEqual(JOB_EVENT_NAMES.map((e) => jobEventType(e)).sort());
    for (const r of rows) {
      const event = r.type.slice('dev.jobline.job.'.length) as (typeof JOB_EVENT_NAMES)[number];
      expect(r.subject).toBe(jobSubject('vocab-q', event, job!.id));
      expectContractShape(r);
    }
  });

  it('for every DAG event name', async () => {
    const run = await db.jl.submitDag({ name: 'vocab', nodes: [{ key: 'a', queue: 'vocab-d', name: 'x' }] });
    const from = await lastId();
    await db.sql(
      insertDagEvents(
        s,
        `(select x.event, $2::bigint as dag_run_id, 'running'::text as state, null::text as node_key,
                 null::bigint as job_id, x.ord::int as ord from unnest($1::text[]) with ordinality x(event, ord))`,
      ),
      [DAG_EVENT_NAMES, run.id],
    );
    const rows = await eventsAfter(from);
    expect(rows.map((r) => r.type)).toEqual(DAG_EVENT_NAMES.map((e) => dagEventType(e)));
    for (const r of rows) {
      const event = r.type.slice('dev.jobline.dag.'.length) as (typeof DAG_EVENT_NAMES)[number];
      expect(r.subject).toBe(dagSubject(event, run.id));
      expectContractShape(r);
    }
  });
});

describe('events written by real transitions', () => {
  it('match the contracts, and both envelope paths give the same valid event', async () => {
    const from = await lastId();
    const queue = 'vocab-run';
    let tries = 0;
    const handlers: Handlers = {
      ok: async () => ({ fine: true }),
      flaky: async () => {
        if (tries++ === 0) throw new Error('first attempt fails');
        return 'second';
      },
      bad: async () => {
        throw Object.assign(new Error('no'), { retryable: false });
      },
    };
    const jobs = await db.jl.enqueueMany([
      { queue, name: 'ok' },
      { queue, name: 'flaky', maxAttempts: 3 },
      { queue, name: 'bad' },
    ]);
    const cancelled = await db.jl.enqueue({ queue: 'vocab-idle', name: 'ok' });
    await db.jl.cancel(cancelled.id);
    const good = await db.jl.submitDag({
      name: 'vocab-ok',
      nodes: [
        { key: 'a', queue, name: 'ok' },
        { key: 'b', queue, name: 'ok', dependsOn: ['a'] },
      ],
    });
    const failing = await db.jl.submitDag({
      name: 'vocab-fail',
      failurePolicy: 'continue',
      nodes: [
        { key: 'a', queue, name: 'bad' },
        { key: 'b', queue, name: 'ok', dependsOn: ['a'] },
      ],
    });
    const toCancel = await db.jl.submitDag({ name: 'vocab-cancel', nodes: [{ key: 'a', queue: 'vocab-idle', name: 'ok' }] });
    await db.jl.cancelDag(toCancel.id);
    const w = db.jl.worker({
      queues: [queue],
      concurrency: 4,
      handlers,
      pollIntervalMs: 50,
      promoteIntervalMs: 20,
      backoff: { baseMs: 10, maxMs: 10, jitter: 0 },
    });
    await w.start();
    try {
      await waitFor(
        async () => {
          const states = await Promise.all(jobs.map((j) => db.jl.getJob(j.id).then((x) => x.state)));
          const runs = await Promise.all([good.id, failing.id].map((id) => db.jl.getDag(id).then((d) => d.state)));
          return states.every((st) => ['completed', 'failed'].includes(st)) && runs.every((st) => st !== 'running');
        },
        20_000,
        'jobs and runs to finish',
      );
    } finally {
      await w.stop();
    }
    const rows = await eventsAfter(from);
    const types = new Set(rows.map((r) => r.type));
    // every kind these transitions make (rescued is covered by the SQL test above and the rescue tests)
    for (const e of ['enqueued', 'started', 'completed', 'retrying', 'failed', 'cancelled'] as const)
      expect(types).toContain(jobEventType(e));
    for (const e of [
      'run_created',
      'run_succeeded',
      'run_failed',
      'run_cancelled',
      'node_ready',
      'node_succeeded',
      'node_failed',
      'node_skipped',
      'node_cancelled',
    ] as const) {
      expect(types).toContain(dagEventType(e));
    }
    for (const r of rows) expectContractShape(r);

    // The relay's JSON and the tail's object come from the one builder: same event, valid.
    const relayRows = (await readOutbox(internals(db.jl).pool, s, 100_000)).filter((r) => r.id > from);
    expect(relayRows.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    const source = db.jl.events.source;
    relayRows.forEach((relayRow, i) => {
      const r = rows[i]!;
      const viaRelay = JSON.parse(envelopeJson(relayRow, JSON.stringify(source)));
      const viaTail = toEnvelope(
        { id: r.id, type: r.type, subject: r.subject, jobId: r.job_id, dagRunId: r.dag_run_id, data: r.data, createdAt: r.created_at },
        source,
      );
      expect(viaTail).toEqual(viaRelay);
      const parsed = JoblineEventSchema.safeParse(viaRelay);
      expect(parsed.success, `${r.type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      expect(viaRelay.subject).toBe(String(r.type.startsWith('dev.jobline.dag.') ? r.dag_run_id : r.job_id));
    });
  });
});
