import type { Logger } from 'pino';
import { CancelledError, ShutdownError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import type { Job } from '../model/job.js';
import { touchAttempt } from '../queue/release.js';
import type { Attempt, JobContext } from './run-attempt.js';

/** The abort reason when cancel() (or a lost fence on heartbeat) ends an attempt. */
export const cancelled = (): Error => new CancelledError();

/** The abort reason of attempts a stopping worker releases. */
export const shuttingDown = (): Error => new ShutdownError();

/** What every context of one worker shares. */
export interface ContextHost {
  pool: Queryable;
  /** Quoted schema. */
  s: string;
  log: Logger;
}

/**
 * The `ctx` a handler gets (DESIGN §6). A class rather than an object of closures: it is made
 * for every attempt, and its pino child logger only when the handler (or debug logging) uses it.
 */
export class AttemptContext implements JobContext {
  private child: Logger | undefined;
  private lastWrite = -Infinity; // the first heartbeat always writes

  constructor(
    private readonly host: ContextHost,
    private readonly a: Attempt,
  ) {}

  get job(): Job {
    return this.a.job;
  }

  get attempt(): number {
    return this.a.job.attempt;
  }

  get signal(): AbortSignal {
    return this.a.signal;
  }

  get logger(): Logger {
    const { job } = this.a;
    return (this.child ??= this.host.log.child({ jobId: job.id, queue: job.queue, attempt: job.attempt, job: job.name }));
  }

  async heartbeat(): Promise<boolean> {
    if (this.a.aborted) return false;
    this.a.touch();
    return this.write(null);
  }

  async progress(n: number): Promise<void> {
    if (!Number.isFinite(n)) throw new TypeError('progress must be a finite number');
    await this.write(n);
  }

  /** Heartbeats write at most once a second; progress always writes. */
  private async write(progress: number | null): Promise<boolean> {
    const now = performance.now();
    if (progress === null && now - this.lastWrite < 1000) return !this.a.aborted;
    this.lastWrite = now;
    const { job } = this.a;
    const alive = await touchAttempt(this.host.pool, this.host.s, job.id, job.attempt, progress);
    if (!alive) this.a.abort(cancelled());
    return alive;
  }
}
