import type { Logger } from 'pino';
import type pg from 'pg';
import type { Job } from '../model/job.js';
import { DefinitionCache } from '../definitions/cache.js';
import type { ExecutorSet } from '../executors/executor-set.js';
import { releaseAttempts } from '../queue/release.js';
import { AttemptKind } from './attempt-kind.js';
import type { ResolvedWorkerOptions } from './options.js';
import type { Attempt, Handler } from './run-attempt.js';

export interface HandlerHost {
  pool: pg.Pool;
  s: string;
  jobsChannel: string;
  workerId: string;
  log: Logger;
  options: Pick<ResolvedWorkerOptions, 'handlers' | 'resolveHandler'>;
  executors: ExecutorSet;
  running: ReadonlyMap<number, Attempt>;
  /** Claims skip definitions this worker cannot run from now on. */
  restrictClaims(): void;
  released(n: number): void;
}

/**
 * Picks what runs a claimed job: a handler named like the job wins, then `resolveHandler`, then
 * the executor of the job's definition; a job with none of these fails with `NO_HANDLER`.
 */
export function handlerPicker(h: HandlerHost): (job: Job) => Handler {
  const definitions = new DefinitionCache(h.pool, h.s);
  /**
   * Jobs that name a definition run on the executor of its kind. A job this worker cannot run
   * (claimed before the claim filter knew of its definition) is given back without using up an
   * attempt, and claims filter from then on.
   */
  const runDefinition: Handler = async (input, ctx) => {
    const d = await definitions.get(ctx.job.definition!);
    const why = h.executors.cannotRun(d);
    if (why === undefined) return h.executors.run(d, input, ctx);
    h.restrictClaims();
    const a = h.running.get(ctx.job.id);
    if (a) a.settled = AttemptKind.Released;
    const message = `worker ${h.workerId} cannot run ${d.name}@${d.version}: ${why}; released for a worker that can`;
    h.log.info({ jobId: ctx.job.id, definition: `${d.name}@${d.version}` }, message);
    const failure = { code: 'NOT_RUNNABLE_HERE', message };
    h.released(await releaseAttempts(h.pool, h.s, [{ id: ctx.job.id, attempt: ctx.job.attempt }], h.workerId, h.jobsChannel, failure));
    throw Object.assign(new Error(message), { code: 'NOT_RUNNABLE_HERE' });
  };
  return (job) =>
    h.options.handlers[job.name] ??
    h.options.resolveHandler?.(job) ??
    (job.definition !== undefined ? runDefinition : undefined) ??
    (() => {
      const known = Object.keys(h.options.handlers).join(', ') || '(none)';
      throw Object.assign(new Error(`worker ${h.workerId} has no handler for job "${job.name}" (it has: ${known})`), {
        code: 'NO_HANDLER',
      });
    });
}
