/**
 * Enqueue policies (issue 15): `singletonKey`, `throttle` and `debounce`. Keys are per queue, like
 * idempotency keys. Each policy job is written in the caller's transaction (or one of its own):
 *
 * - singletonKey: at most one unfinished job (not completed, failed or cancelled) per (queue, key).
 *   A repeated enqueue returns the unfinished job (`created: false, policy: 'singletonKey'`); once it
 *   finished, the next enqueue creates a new one. Guaranteed by the partial unique index
 *   `jobs_singleton_key_idx`, so even a writer that bypassed this module could not break it.
 * - throttle `{ key, periodMs }`: the first enqueue opens a window of `periodMs` and creates the job;
 *   enqueues until the window ends return that job (`policy: 'throttle'`) and are dropped. The window
 *   starts at the accepted job (BullMQ's deduplication `ttl`), not at fixed clock slots (pg-boss's
 *   `singletonSeconds`), so "one per minute" never lets two through a second apart.
 * - debounce `{ key, periodMs }`: trailing edge. The first enqueue creates a job due `periodMs` later;
 *   each enqueue in the window while that job has not started replaces its input and pushes its
 *   start to `periodMs` after itself (`created: false, policy: 'debounce'`, the returned job shows the
 *   new input and runAt). The job runs once, `periodMs` after the last enqueue, with the last input
 *   (BullMQ's debounce with `extend` + `replace`). Once it started, the next enqueue creates a new job.
 *   Its other fields (name, priority, group, …) stay those of the first enqueue.
 *
 * Concurrent enqueues with one key are serialised by a transaction-scoped advisory lock on
 * (kind, queue, key), held until the enclosing transaction ends: the second enqueuer sees the first's
 * job once it committed, or creates its own if the first rolled back.
 */
import { ValidationError, type FieldIssue } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { JOB_COLUMNS, mapJob, type Job } from '../model/job.js';
import { sqlList } from '../model/sql.js';
import { JobFinished, JobState } from '../model/states.js';
import type { ParsedJobSpec } from '../schemas.js';

/** Which rule answered an enqueue with an existing job. */
export const EnqueuePolicy = {
  idempotencyKey: 'idempotencyKey',
  singletonKey: 'singletonKey',
  throttle: 'throttle',
  debounce: 'debounce',
} as const;
export type EnqueuePolicy = (typeof EnqueuePolicy)[keyof typeof EnqueuePolicy];

/** The structural view of enqueue.ts's PreparedJob / EnqueueResult (kept local: no import cycle). */
interface Prepared {
  spec: ParsedJobSpec;
  inputJson: string | null;
}
interface Result {
  job: Job;
  created: boolean;
  policy?: EnqueuePolicy;
}
type InsertPlain = (prepared: Prepared[]) => Promise<Result[]>;

export const hasPolicy = (p: Prepared): boolean =>
  p.spec.singletonKey !== undefined || p.spec.throttle !== undefined || p.spec.debounce !== undefined;

/** One policy per job: the combinations have no single obvious meaning. */
function checkOnePolicy(prepared: readonly Prepared[], single: boolean): void {
  const issues: FieldIssue[] = [];
  prepared.forEach((p, i) => {
    const given = (['singletonKey', 'throttle', 'debounce'] as const).filter((k) => p.spec[k] !== undefined);
    if (given.length > 1) {
      issues.push({
        path: single ? given[1] : `jobs.${i}.${given[1]}`,
        message: `use one of singletonKey, throttle or debounce per job (got ${given.join(' and ')})`,
      });
    }
  });
  if (issues.length) throw new ValidationError(issues);
}

/**
 * Writes `prepared` (some with a policy) in input order: jobs without one go to `insertPlain` in one
 * call, the others one at a time. `db` must be inside a transaction (the advisory locks and the
 * read-then-write of each policy need one).
 */
export async function insertWithPolicies(db: Queryable, s: string, prepared: Prepared[], insertPlain: InsertPlain): Promise<Result[]> {
  checkOnePolicy(prepared, prepared.length === 1);
  const results: Result[] = new Array(prepared.length);
  const plainIdx = prepared.map((p, i) => (hasPolicy(p) ? -1 : i)).filter((i) => i >= 0);
  if (plainIdx.length) {
    const plain = await insertPlain(plainIdx.map((i) => prepared[i]));
    plainIdx.forEach((i, k) => (results[i] = plain[k]));
  }
  for (let i = 0; i < prepared.length; i++) {
    if (results[i]) continue;
    results[i] = await insertOne(db, s, prepared[i], insertPlain);
  }
  return results;
}

async function insertOne(db: Queryable, s: string, prepared: Prepared, insertPlain: InsertPlain): Promise<Result> {
  const { spec } = prepared;
  // What insertPlain writes: the same job without its policy (the policy is applied here).
  const p = { ...prepared, spec: { ...spec, singletonKey: undefined, throttle: undefined, debounce: undefined } };
  const [kind, key] =
    spec.singletonKey !== undefined
      ? (['singleton', spec.singletonKey] as const)
      : spec.throttle
        ? (['throttle', spec.throttle.key] as const)
        : (['debounce', spec.debounce!.key] as const);
  const now = await lockKey(db, kind, spec.queue, key);
  if (kind === 'singleton') {
    const existing = await findSingleton(db, s, spec.queue, key);
    if (existing) return { job: existing, created: false, policy: EnqueuePolicy.singletonKey };
    const [r] = await insertPlain([p]);
    if (!r.created) return { ...r, policy: EnqueuePolicy.idempotencyKey };
    return { job: await setSingletonKey(db, s, r.job.id, key), created: true };
  }
  const periodMs = (spec.throttle ?? spec.debounce)!.periodMs;
  const win = await readWindow(db, s, spec.queue, kind, key);
  if (kind === 'throttle' && win && win.endsAt > now && win.jobId !== null) {
    const job = await jobById(db, s, win.jobId);
    if (job) return { job, created: false, policy: EnqueuePolicy.throttle };
  }
  if (kind === 'debounce' && win && win.jobId !== null) {
    const job = await replacePending(db, s, win.jobId, p.inputJson, periodMs);
    if (job) {
      await writeWindow(db, s, spec.queue, kind, key, job.id, periodMs);
      return { job, created: false, policy: EnqueuePolicy.debounce };
    }
  }
  // A debounced job waits for its window's end; it is created as scheduled.
  const item = kind === 'debounce' ? { ...p, spec: { ...p.spec, runAt: new Date(now.getTime() + periodMs) } } : p;
  const [r] = await insertPlain([item]);
  if (!r.created) return { ...r, policy: EnqueuePolicy.idempotencyKey };
  await writeWindow(db, s, spec.queue, kind, key, r.job.id, periodMs);
  return r;
}

/** Serialises enqueues of one (policy, queue, key) until the transaction ends; returns the database clock. */
async function lockKey(db: Queryable, kind: string, queue: string, key: string): Promise<Date> {
  const { rows } = await db.query(
    `select pg_advisory_xact_lock(hashtextextended($1 || ':' || length($2) || ':' || $2 || $3, 8015)), clock_timestamp() as now`,
    [kind, queue, key],
  );
  return rows[0].now;
}

// Must match the predicate of jobs_singleton_key_idx (0008) for the index to serve this lookup.
const UNFINISHED = `state not in (${sqlList(JobFinished)})`;

async function findSingleton(db: Queryable, s: string, queue: string, key: string): Promise<Job | undefined> {
  const { rows } = await db.query(
    `select ${JOB_COLUMNS} from ${s}.jobs where queue = $1 and singleton_key = $2 and singleton_key is not null and ${UNFINISHED}`,
    [queue, key],
  );
  return rows[0] ? mapJob(rows[0]) : undefined;
}

async function setSingletonKey(db: Queryable, s: string, id: number, key: string): Promise<Job> {
  const { rows } = await db.query(`update ${s}.jobs set singleton_key = $2 where id = $1 returning ${JOB_COLUMNS}`, [id, key]);
  return mapJob(rows[0]);
}

async function jobById(db: Queryable, s: string, id: number): Promise<Job | undefined> {
  const { rows } = await db.query(`select ${JOB_COLUMNS} from ${s}.jobs where id = $1`, [id]);
  return rows[0] ? mapJob(rows[0]) : undefined;
}

/**
 * A job that has not started yet (never claimed, not finished): the debounced job an enqueue may
 * still replace. Also the test of maintenance's window pruning, which must keep exactly the windows
 * whose job is still replaceable.
 */
export const notStartedSql = (alias: string) =>
  `${alias}.state in (${sqlList([JobState.scheduled, JobState.available])}) and ${alias}.attempt = 0`;

/**
 * The debounced job, if it has not started: its input replaced and its start pushed to `periodMs`
 * from now. A claimer holding the row (SKIP LOCKED) makes this wait; it then sees `running` and
 * matches nothing, so a job that started is never changed.
 */
async function replacePending(db: Queryable, s: string, id: number, inputJson: string | null, periodMs: number): Promise<Job | undefined> {
  const { rows } = await db.query(
    `update ${s}.jobs set input = $2::jsonb, state = '${JobState.scheduled}',
            run_at = clock_timestamp() + $3 * interval '1 millisecond', updated_at = now()
      where id = $1 and ${notStartedSql('jobs')}
     returning ${JOB_COLUMNS}`,
    [id, inputJson, periodMs],
  );
  return rows[0] ? mapJob(rows[0]) : undefined;
}

async function readWindow(db: Queryable, s: string, queue: string, kind: string, key: string) {
  const { rows } = await db.query(`select job_id, ends_at from ${s}.enqueue_windows where queue = $1 and kind = $2 and key = $3`, [
    queue,
    kind,
    key,
  ]);
  return rows[0] ? { jobId: rows[0].job_id as number | null, endsAt: rows[0].ends_at as Date } : undefined;
}

async function writeWindow(
  db: Queryable,
  s: string,
  queue: string,
  kind: string,
  key: string,
  jobId: number,
  periodMs: number,
): Promise<void> {
  await db.query(
    `insert into ${s}.enqueue_windows (queue, kind, key, job_id, ends_at)
     values ($1, $2, $3, $4, clock_timestamp() + $5 * interval '1 millisecond')
     on conflict (queue, kind, key) do update set job_id = excluded.job_id, ends_at = excluded.ends_at, updated_at = now()`,
    [queue, kind, key, jobId, periodMs],
  );
}
