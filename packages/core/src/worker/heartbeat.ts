import type { Queryable } from '../db/pool.js';
import { AttemptKind } from './attempt-kind.js';
import { cancelled } from './context.js';
import { endedAttempts } from './own-jobs.js';
import type { Attempt } from './run-attempt.js';

/**
 * The worker's liveness: one upsert of its own `workers` row per interval (never per job; the
 * rescuer reads it). Without LISTEN (a transaction pooler and no direct URL) no cancel NOTIFY
 * arrives, so each beat also aborts the signal of attempts whose job is no longer running at
 * that attempt (cancelled, or rescued and re-claimed), as the NOTIFY would have done.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly s: string,
    private readonly register: () => Promise<void>,
    private readonly running: ReadonlyMap<number, Attempt>,
    /** No LISTEN connection: poll for ended attempts. */
    private readonly withoutListen: boolean,
    private readonly warn: (err: unknown, msg: string) => void,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.beat(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    try {
      await this.register();
    } catch (err) {
      this.warn(err, 'heartbeat failed');
    }
    if (this.withoutListen) await this.abortEnded();
  }

  private async abortEnded(): Promise<void> {
    const mine = [...this.running.values()];
    if (!mine.length) return;
    try {
      for (const id of await endedAttempts(
        this.db,
        this.s,
        mine.map((a) => a.job),
      )) {
        const a = this.running.get(id);
        if (!a) continue;
        a.settled = AttemptKind.Cancelled; // the database already has this attempt's end
        a.abort(cancelled());
      }
    } catch (err) {
      this.warn(err, 'checking running jobs for cancellation failed');
    }
  }
}
