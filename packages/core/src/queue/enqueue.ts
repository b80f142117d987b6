import { ValidationError, fromPgError, type FieldIssue } from '../db/errors.js';
import type pg from 'pg';
import type { Queryable } from '../db/pool.js';
import { JOB_COLUMNS, mapJob, type Job, type JobRow } from '../model/job.js';
import { JobEvent } from '../model/events.js';
import { sqlLit } from '../model/sql.js';
import { JobState } from '../model/states.js';
import { insertJobEvents } from '../events/outbox.js';
import { hasPolicy, insertWithPolicies, type EnqueuePolicy } from './enqueue-policies.js';
import { JobSpecSchema, serialiseJson, toValidationError, type JobSpec, type ParsedJobSpec } from '../schemas.js';

/** Defaults applied when neither the job nor its queue's row says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;
/** One statement carries at most this many jobs; bigger inputs are split (PostgreSQL bind limits). */
export const MAX_JOBS_PER_STATEMENT = 10_000;

export interface EnqueueResult {
  job: Job;
  /** false when an existing job with the same idempotency key was returned instead. */
  created: boolean;
  /** When created is false: the rule that returned the existing job (enqueue-policies.ts). */
  policy?: EnqueuePolicy;
}

export interface PreparedJob {
  spec: ParsedJobSpec;
  inputJson: string | null;
}

/** Validates every spec, collecting all bad fields (`jobs.3.priority`) before anything is written. */
export function prepareJobs(specs: readonly JobSpec[], maxInputBytes: number, single: boolean): PreparedJob[] {
  const issues: FieldIssue[] = [];
  const prepared: PreparedJob[] = [];
  specs.forEach((raw, i) => {
    const prefix = single ? '' : `jobs.${i}`;
    const r = JobSpecSchema.safeParse(raw);
    if (!r.success) {
      issues.push(...toValidationError(r.error, prefix).issues);
      return;
    }
    try {
      prepared.push({ spec: r.data, inputJson: serialiseJson(r.data.input, prefix ? `${prefix}.input` : 'input', maxInputBytes) });
    } catch (err) {
      if (err instanceof ValidationError) issues.push(...err.issues);
      else throw err;
    }
  });
  if (issues.length) throw new ValidationError(issues);
  return prepared;
}

/**
 * With `notifyChannel`, the statement also NOTIFYs each inserted job's queue on it (PostgreSQL
 * folds repeats of one payload within a transaction into one notification): the leading edge of
 * the debounced wake-up (notify.ts), delivered when this insert commits. Only on the leading edge:
 * a NOTIFY holds PostgreSQL's notify lock from its commit's start to its end, WAL flush included,
 * so notifying in every insert would serialise a busy producer's commits — measured before as a
 * p99 of 19–91 ms at 200/s with a NOTIFY in every insert. Within a window, or while another insert
 * of the producer is in flight, the inserts stay plain and share the debounced notifications.
 */
const insertSql = (s: string, notifyChannel?: string) => `
  with t as (
    select * from unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::int[],
                         $7::jsonb[], $8::text[], $9::text[], $10::text[], $11::text[])
      with ordinality as t(queue, name, priority, run_at, max_attempts, timeout_ms, input,
                           idempotency_key, definition, traceparent, group_key, ord)
  ), ins as (
    insert into ${s}.jobs (queue, name, state, priority, run_at, max_attempts, timeout_ms, input,
                           idempotency_key, definition, traceparent, group_key)
    select t.queue, t.name,
           case when t.run_at > now() then ${sqlLit(JobState.scheduled)} else ${sqlLit(JobState.available)} end,
           t.priority, coalesce(t.run_at, now()),
           coalesce(t.max_attempts, q.max_attempts, ${DEFAULT_MAX_ATTEMPTS}),
           coalesce(t.timeout_ms, q.timeout_ms, ${DEFAULT_TIMEOUT_MS}),
           t.input, t.idempotency_key, t.definition, t.traceparent, t.group_key
      from t left join ${s}.queues q on q.name = t.queue
     order by t.ord
    on conflict (queue, idempotency_key) where idempotency_key is not null do nothing
    returning *
  ), ev as (
    ${insertJobEvents(
      s,
      `(select ins.*, ${sqlLit(JobEvent.enqueued)} as event, null::timestamptz as finished_at,
                                 null::float8 as duration_ms from ins) `,
    )}
  )
  select id, state, run_at, max_attempts, timeout_ms, input, created_at, queue, idempotency_key
         ${notifyChannel === undefined ? '' : `, pg_notify(${sqlLit(notifyChannel)}, queue)`}
    from ins`;

/**
 * The inserted job, mapped by `mapJob` like any job row: the statement returns 9 columns instead
 * of all 26, and the rest are the spec's own values or still unset (a new job has no attempt,
 * output, worker or DAG), so reading them back only cost PostgreSQL output and Node parsing per
 * job (measured 2026-11-30: returning every column was ~35 µs of a 160–220 µs `enqueue`).
 */
/** The columns the insert statement returns. */
type InsertedRow = Pick<
  JobRow,
  'id' | 'state' | 'run_at' | 'max_attempts' | 'timeout_ms' | 'input' | 'created_at' | 'queue' | 'idempotency_key'
>;

function insertedJob(p: PreparedJob, r: InsertedRow): Job {
  const t = p.spec;
  // One object literal, no spread: spreading the pg row into a base object made enqueueMany's
  // Node CPU 20 → 60 µs per job (the spread copies through a slow path, and GC followed).
  return mapJob({
    id: r.id,
    queue: t.queue,
    name: t.name,
    state: r.state,
    priority: t.priority,
    run_at: r.run_at,
    attempt: 0,
    max_attempts: r.max_attempts,
    timeout_ms: r.timeout_ms,
    input: r.input,
    output: null,
    error: null,
    progress: null,
    idempotency_key: t.idempotencyKey ?? null,
    definition: t.definition ?? null,
    dag_run_id: null,
    dag_node_key: null,
    worker_id: null,
    traceparent: t.traceparent ?? null,
    group_key: t.group ?? null,
    singleton_key: null,
    created_at: r.created_at,
    claimed_at: null,
    started_at: null,
    heartbeat_at: null,
    completed_at: null,
    // Both default to now(): the same value within the inserting transaction.
    updated_at: r.created_at,
  });
}

const existingSql = (s: string) => `
  select ${JOB_COLUMNS} from ${s}.jobs
   where (queue, idempotency_key) in (select * from unnest($1::text[], $2::text[]))`;

/**
 * Inserts jobs with one statement per 10,000 and returns them in input order. A spec whose
 * idempotency key already exists in its queue returns that job (`created: false`); this also
 * holds for two specs with the same key in one call.
 */
export async function insertJobs(db: Queryable, schema: string, prepared: PreparedJob[], notifyChannel?: string): Promise<EnqueueResult[]> {
  // singletonKey/throttle/debounce jobs take their own path, which comes back here without the policy.
  if (prepared.some(hasPolicy)) return insertWithPolicies(db, schema, prepared, (p) => insertJobs(db, schema, p));
  const results: EnqueueResult[] = [];
  for (let i = 0; i < prepared.length; i += MAX_JOBS_PER_STATEMENT) {
    results.push(...(await insertChunk(db, schema, prepared.slice(i, i + MAX_JOBS_PER_STATEMENT), notifyChannel)));
  }
  return results;
}

async function insertChunk(db: Queryable, s: string, chunk: PreparedJob[], notifyChannel?: string): Promise<EnqueueResult[]> {
  const col = <T>(f: (p: PreparedJob) => T) => chunk.map(f);
  let rows: InsertedRow[];
  try {
    ({ rows } = await db.query<InsertedRow>(<pg.QueryConfig & { label: string }>{
      // Named, so each connection parses and plans this ~2 KB statement once: unnamed, planning
      // cost more than running it (0.26–0.86 ms vs 0.16–0.49 ms; one-at-a-time enqueue 2.0k → 5.0k jobs/s).
      name: notifyChannel === undefined ? `jobline_insert_${s}` : `jobline_insert_notify_${s}`,
      // One statement for logs and metrics either way (db/query-log.ts), whichever text carries it.
      label: 'jobline_insert',
      text: insertSql(s, notifyChannel),
      values: [
        col((p) => p.spec.queue),
        col((p) => p.spec.name),
        col((p) => p.spec.priority),
        col((p) => p.spec.runAt ?? null),
        col((p) => p.spec.maxAttempts ?? null),
        col((p) => p.spec.timeoutMs ?? null),
        col((p) => p.inputJson),
        col((p) => p.spec.idempotencyKey ?? null),
        col((p) => p.spec.definition ?? null),
        col((p) => p.spec.traceparent ?? null),
        col((p) => p.spec.group ?? null),
      ],
    }));
  } catch (err) {
    throw fromPgError(err, 'job');
  }
  // Unkeyed jobs get ids in insert order (the SELECT is ordered by input position).
  const unkeyedSpecs = chunk.filter((p) => p.spec.idempotencyKey === undefined);
  const unkeyed = rows
    .filter((r) => r.idempotency_key === null)
    .sort((a, b) => (a.id as number) - (b.id as number))
    .map((r, i) => insertedJob(unkeyedSpecs[i], r));
  const specByKey = new Map<string, PreparedJob>();
  for (const p of chunk) {
    const k = `${p.spec.queue}\0${p.spec.idempotencyKey}`;
    if (p.spec.idempotencyKey !== undefined && !specByKey.has(k)) specByKey.set(k, p);
  }
  const byKey = new Map<string, Job>();
  for (const r of rows) {
    if (r.idempotency_key === null) continue;
    const k = `${r.queue}\0${r.idempotency_key}`;
    byKey.set(k, insertedJob(specByKey.get(k)!, r));
  }
  const createdKeys = new Set(byKey.keys());
  const missing = chunk.filter((p) => p.spec.idempotencyKey !== undefined && !byKey.has(`${p.spec.queue}\0${p.spec.idempotencyKey}`));
  if (missing.length) {
    const { rows: existing } = await db.query<JobRow>(existingSql(s), [
      missing.map((p) => p.spec.queue),
      missing.map((p) => p.spec.idempotencyKey),
    ]);
    for (const r of existing) {
      const j = mapJob(r);
      byKey.set(`${j.queue}\0${j.idempotencyKey}`, j);
    }
  }
  let next = 0;
  const seen = new Set<string>();
  return chunk.map((p) => {
    if (p.spec.idempotencyKey === undefined) return { job: unkeyed[next++], created: true };
    const key = `${p.spec.queue}\0${p.spec.idempotencyKey}`;
    const job = byKey.get(key);
    if (!job) throw new Error(`idempotent job ${key} vanished between insert and lookup`);
    const created = createdKeys.has(key) && !seen.has(key);
    seen.add(key);
    return { job, created };
  });
}
