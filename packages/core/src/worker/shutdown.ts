import type { Queryable } from '../db/pool.js';
import { releaseAttempts } from '../queue/release.js';
import { AttemptKind } from './attempt-kind.js';
import { shuttingDown } from './context.js';
import type { BatchingCompleter } from './completer.js';
import type { Attempt } from './run-attempt.js';

/** Resolves when no attempt runs any more, after `graceMs`, or when `force()` is called (a second signal). */
export function graceful(running: ReadonlyMap<number, Attempt>, graceMs: number): { done: Promise<void>; force(): void } {
  let force = () => {};
  const done = new Promise<void>((resolve) => {
    if (running.size === 0) return resolve();
    const timer = setTimeout(resolve, graceMs);
    force = () => {
      clearTimeout(timer);
      resolve();
    };
    const check = () => (running.size === 0 ? (clearTimeout(timer), resolve()) : setTimeout(check, 10));
    check();
  });
  return { done, force: () => force() };
}

/**
 * Aborts the attempts still running when the grace period ended and gives their jobs back
 * (fenced by attempt, no attempt used up) so another worker takes them at once. Resolves with the
 * rows released; rejects when the database could not be reached (the rescuer returns them then).
 */
export async function releaseOnShutdown(db: Queryable, s: string, workerId: string, jobsChannel: string, left: Attempt[]): Promise<number> {
  if (!left.length) return 0;
  for (const a of left) {
    a.settled = AttemptKind.Shutdown;
    a.trace?.end('released');
    a.abort(shuttingDown());
  }
  return releaseAttempts(
    db,
    s,
    left.map((a) => ({ id: a.job.id, attempt: a.job.attempt })),
    workerId,
    jobsChannel,
  );
}

/** Waits at most `ms` for the completer to write what is queued, then stops its retries (the rescuer returns jobs whose outcome never landed). */
export async function drainWithin(completer: BatchingCompleter, ms: number): Promise<void> {
  const timeout = new Promise<void>((r) => setTimeout(r, ms).unref());
  await Promise.race([completer.drain(), timeout]);
  completer.abandon();
}
