/**
 * Running jobs in a test through the real worker path: a core Worker claims, runs the handler
 * with a real context (signal, heartbeat, progress, logger), and its completer writes the outcome,
 * the execution history and the outbox rows — exactly what production does, in-process.
 */
import type { EnqueueSpec, Handlers, Job, JobExecution, Jobline, Worker, WorkerOptions } from '@jobline/core';
import { internals } from '@jobline/core/internal';

export interface RunJobOptions {
  /**
   * Run the retries of a failing job at once (its backoff is skipped) until it completes or
   * fails for good. Without it one attempt runs and a failing job comes back `retryable`. @default false
   */
  retries?: boolean;
  /** Give up (with an error naming the job and its state) after this long. @default 30000 */
  timeoutMs?: number;
  /** Worker settings for the run (concurrency is 1). */
  worker?: Partial<WorkerOptions>;
}

export interface RunJobResult<O = unknown> {
  /** The job after the run, as the database has it. */
  job: Job;
  /** Its state after the run: completed, failed, cancelled, or retryable (one attempt, no `retries`). */
  state: Job['state'];
  output?: O;
  error?: Job['error'];
  /** The execution history: one row per attempt, oldest first. */
  executions: JobExecution[];
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Fast polling and no leader duties: a test's worker does one thing. */
const TEST_WORKER: Partial<WorkerOptions> = {
  pollIntervalMs: 20,
  maintenance: false,
  scheduler: false,
  relay: false,
  heartbeatIntervalMs: 1000,
};

/** Makes a scheduled or retryable job claimable now (what the leader's promoter does at its time). */
async function makeDue(jl: Jobline, id: number): Promise<void> {
  await internals(jl).pool.query(
    `update ${internals(jl).s}.jobs set state = 'available', run_at = now(), updated_at = now() where id = $1 and state in ('scheduled', 'retryable')`,
    [id],
  );
}

function checkHandlers(handlers: Handlers, name: string): void {
  if (typeof handlers[name] !== 'function') {
    throw new Error(
      `runJob: no handler for job name "${name}" (handlers given: ${Object.keys(handlers).join(', ') || 'none'}): add handlers["${name}"]`,
    );
  }
}

/**
 * Enqueues `job` (or takes an existing job by id), runs it through a worker on its queue and
 * returns its outcome and execution history. A scheduled job is made due first. Other
 * available jobs of the same queue may run too (with the same handlers): give tests their own
 * queue, or `reset()` between them.
 */
export async function runJob<O = unknown>(
  jl: Jobline,
  handlers: Handlers,
  job: EnqueueSpec | number,
  o: RunJobOptions = {},
): Promise<RunJobResult<O>> {
  // Checked before enqueueing, so that a missing handler leaves no job behind.
  if (typeof job !== 'number' && typeof job.name === 'string') checkHandlers(handlers, job.name);
  const target = typeof job === 'number' ? await jl.getJob(job) : await jl.enqueue(job);
  checkHandlers(handlers, target.name);
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  const startAttempt = target.attempt;
  await makeDue(jl, target.id);
  const w = jl.worker({ ...TEST_WORKER, ...o.worker, queues: [target.queue], concurrency: 1, handlers });
  await w.start();
  try {
    for (;;) {
      const now = await jl.getJob(target.id);
      const ranOnce = now.attempt > startAttempt && now.state !== 'running' && now.state !== 'available';
      if (FINAL.has(now.state) || (ranOnce && !o.retries)) break;
      if (ranOnce && now.state === 'retryable') await makeDue(jl, target.id);
      if (Date.now() > deadline)
        throw new Error(
          `runJob: job ${target.id} (${target.queue}/${target.name}) is still ${now.state} after ${o.timeoutMs ?? 30_000} ms`,
        );
      await sleep(10);
    }
  } finally {
    await w.stop();
  }
  const done = await jl.getJob(target.id);
  return {
    job: done,
    state: done.state,
    output: done.output as O | undefined,
    error: done.error,
    executions: await jl.executions(target.id),
  };
}

export interface DrainOptions {
  /** Give up after this long. @default 60000 */
  timeoutMs?: number;
  /** @default 10 */
  concurrency?: number;
  /** Worker settings (retries wait for their backoff unless `backoff` is set short here). */
  worker?: Partial<WorkerOptions>;
}

export interface DrainResult {
  /** Jobs that reached a final state during the drain, by id. */
  completed: number[];
  failed: number[];
  cancelled: number[];
}

/** Jobs of the queues that a worker still has to run: available, running, or due. */
async function outstanding(jl: Jobline, queues: string[]): Promise<number> {
  const { rows } = await internals(jl).pool.query(
    `select count(*)::int as n from ${internals(jl).s}.jobs where queue = any($1) and (state in ('available', 'running') or (state in ('scheduled', 'retryable') and run_at <= now()))`,
    [queues],
  );
  return rows[0].n;
}

/**
 * Runs workers on `queue` until nothing in it is available, running or due (including jobs the
 * handlers enqueue meanwhile and retries whose time comes), then stops. Jobs scheduled for
 * later stay. A worker with maintenance on promotes due scheduled and retried jobs.
 */
export async function drain(jl: Jobline, queue: string | string[], handlers: Handlers, o: DrainOptions = {}): Promise<DrainResult> {
  const queues = Array.isArray(queue) ? queue : [queue];
  const result: DrainResult = { completed: [], failed: [], cancelled: [] };
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  const w: Worker = jl.worker({
    ...TEST_WORKER,
    maintenance: true,
    promoteIntervalMs: 20,
    ...o.worker,
    queues,
    concurrency: o.concurrency ?? 10,
    handlers,
  });
  await w.start();
  const seen = new Set<number>();
  w.on('outcome', (job: Job) => void seen.add(job.id));
  try {
    while ((await outstanding(jl, queues)) > 0) {
      if (Date.now() > deadline)
        throw new Error(
          `drain: queue ${queues.join(', ')} still has ${await outstanding(jl, queues)} job(s) to run after ${o.timeoutMs ?? 60_000} ms`,
        );
      await sleep(10);
    }
  } finally {
    await w.stop();
  }
  if (seen.size) {
    const { rows } = await internals(jl).pool.query(`select id, state from ${internals(jl).s}.jobs where id = any($1) order by id`, [
      [...seen],
    ]);
    for (const r of rows) if (r.state in result) result[r.state as keyof DrainResult].push(r.id);
  }
  return result;
}
