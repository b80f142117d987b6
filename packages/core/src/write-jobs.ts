import type pg from 'pg';
import { z } from 'zod';
import { withTransaction } from './db/pool.js';
import { applyDefinitions } from './definitions/index.js';
import { startPublishSpan } from './observability/tracing.js';
import { insertJobs, prepareJobs, type EnqueueResult } from './queue/enqueue.js';
import { hasPolicy } from './queue/enqueue-policies.js';
import { jobsChannel, notifyInTransaction, type Debounced } from './queue/notify.js';
import { parseOrThrow, type JobSpec } from './schemas.js';
import type { EnqueueSpec, TxOption } from './connect-options.js';

/** What writing jobs needs from the Jobline instance. */
export interface JobWriterHost {
  pool: pg.Pool;
  schema: string;
  /** Quoted schema, for SQL. */
  s: string;
  maxInputBytes: number;
  /** Wakes workers after an auto-committed insert (debounced per queue). */
  notifier: Debounced;
}

/**
 * enqueue / enqueueMany / insertJobs: definitions applied (defaults, version pin, input
 * schema), specs validated and serialised, the producer span around the write, then one insert
 * statement per 10,000 jobs and the wake-up — a NOTIFY in the caller's transaction, or the
 * debounced notifier after an auto-committed insert.
 */
export async function writeJobs(h: JobWriterHost, jobs: EnqueueSpec[], opts: TxOption, single: boolean): Promise<EnqueueResult[]> {
  if (!Array.isArray(jobs)) throw parseOrThrow(z.array(z.unknown()), jobs, 'jobs');
  // Jobs by definition take its defaults, are pinned to its version and have their input checked.
  const specs = jobs.some((j) => typeof (j as { definition?: unknown })?.definition === 'string')
    ? await applyDefinitions(opts.tx ?? h.pool, h.s, jobs as JobSpec[], single)
    : (jobs as JobSpec[]);
  const prepared = prepareJobs(specs, h.maxInputBytes, single);
  if (!prepared.length) return [];
  const trace = startPublishSpan<EnqueueResult[]>(prepared, single, opts.callerTraceparent);
  if (!trace) return write(h, prepared, opts);
  return trace.around(
    () => write(h, prepared, opts),
    (span, results) => {
      if (!single) return;
      span.setAttribute('messaging.message.id', String(results[0].job.id));
      span.setAttribute('jobline.job.created', results[0].created);
    },
  );
}

async function write(h: JobWriterHost, prepared: ReturnType<typeof prepareJobs>, opts: TxOption): Promise<EnqueueResult[]> {
  const queues = new Set(prepared.map((p) => p.spec.queue));
  if (opts.tx) {
    const results = await insertJobs(opts.tx, h.s, prepared);
    await notifyInTransaction(opts.tx, jobsChannel(h.schema), queues);
    return results;
  }
  // Over 10,000 jobs take several statements, and so do enqueue policies: one transaction keeps the call all-or-nothing.
  if (prepared.length > 10_000 || prepared.some(hasPolicy)) {
    const results = await withTransaction(h.pool, (tx) => insertJobs(tx, h.s, prepared));
    h.notifier.notify(queues);
    return results;
  }
  // The notifier wakes workers after the insert, or (an idle producer's NOTIFY) has it carry the wake-up.
  return h.notifier.insert(queues, (channel) => insertJobs(h.pool, h.s, prepared, channel));
}
