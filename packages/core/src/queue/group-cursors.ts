import type { Job } from '../model/job.js';

/**
 * Where each group's candidates start in the next grouped claim (the grouped form of the plain
 * claim's cursor, `worker/claim-cursor.ts`). A claim takes each group's jobs from the head of its
 * order, so once it has claimed k jobs of a group, every job of that group before the k-th is
 * running (or was not available then): the next claim may read the group from just past it. The
 * index entries of the jobs just claimed stay in `jobs_group_claim_idx` until no snapshot can see
 * them; without the cursor every claim walked those of the last claims again (for a group with a
 * large backlog, a few hundred dead entries and their heap pages per claim).
 *
 * Kept for the groups of the last claim of each queue only (a group that had no job in it starts
 * from its head: its few dead entries are cheap), and dropped every `rescanMs` so that a job which
 * sorts before a cursor — a more urgent priority, a retry that came due, a job skipped because a
 * cancel held its row — waits at most that long, as with the plain cursor. 0 = no cursors.
 * A job's `runAt` has millisecond precision and the column microseconds: a cursor is at or before
 * the real position, so it may re-read a claimed entry but never skips a job.
 */
export interface CursorArrays {
  keys: string[];
  priorities: number[];
  runAts: Date[];
  ids: string[];
}

const NONE: CursorArrays = { keys: [], priorities: [], runAts: [], ids: [] };

export class GroupCursors {
  private readonly byQueue = new Map<string, CursorArrays>();
  private lastHeadScan = new Map<string, number>();

  constructor(private readonly rescanMs: number) {}

  /** The cursors for the queue's next claim (none when it is time to read every group from its head). */
  next(queue: string): CursorArrays {
    const now = performance.now();
    if (this.rescanMs === 0 || now - (this.lastHeadScan.get(queue) ?? -Infinity) >= this.rescanMs) {
      this.lastHeadScan.set(queue, now);
      return NONE;
    }
    return this.byQueue.get(queue) ?? NONE;
  }

  /** After a claim: each claimed group's last job (claims return jobs in claim order). */
  claimed(queue: string, jobs: readonly Job[]): void {
    if (this.rescanMs === 0) return;
    const last = new Map<string, Job>();
    for (const j of jobs) if (j.group !== undefined) last.set(j.group, j);
    const c: CursorArrays = { keys: [], priorities: [], runAts: [], ids: [] };
    for (const [k, j] of last) {
      c.keys.push(k);
      c.priorities.push(j.priority);
      c.runAts.push(j.runAt);
      c.ids.push(String(j.id));
    }
    this.byQueue.set(queue, c);
  }
}
