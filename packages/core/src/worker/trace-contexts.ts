/**
 * The attempt contexts of traced DAG nodes that completed, kept from the attempt's end until its
 * completion batch is written. Written into the node's `jobs.traceparent` in the completing
 * transaction (fenced like the completion itself), so the release spans of its children — maybe
 * in another worker, much later — can link to the attempt that completed it. Single jobs need
 * nothing of this: nothing links to their attempts, so the hot path stays as it was.
 */
import type { Queryable } from '../db/pool.js';
import { JobState } from '../model/states.js';
import { FENCE_RUNNING, type Outcome } from '../queue/complete.js';

export class NodeTraceContexts {
  private readonly byJob = new Map<number, { attempt: number; traceparent: string }>();

  get size(): number {
    return this.byJob.size;
  }

  remember(jobId: number, attempt: number, traceparent: string): void {
    this.byJob.set(jobId, { attempt, traceparent });
  }

  /** Writes the contexts of this batch's completed nodes; call in the completing transaction, before completion. */
  async write(tx: Queryable, s: string, batch: readonly Outcome[]): Promise<void> {
    const ids: number[] = [];
    const attempts: number[] = [];
    const tps: string[] = [];
    for (const o of batch) {
      const c = this.byJob.get(o.jobId);
      if (!c || c.attempt !== o.attempt || o.nextState !== JobState.completed) continue;
      ids.push(o.jobId);
      attempts.push(o.attempt);
      tps.push(c.traceparent);
    }
    if (!ids.length) return;
    await tx.query(
      `update ${s}.jobs j set traceparent = u.tp
         from unnest($1::bigint[], $2::int[], $3::text[]) as u(id, attempt, tp)
        where j.id = u.id and j.attempt = u.attempt and ${FENCE_RUNNING}`,
      [ids, attempts, tps],
    );
  }

  /** Forgets the batch's entries once it is written (or abandoned). */
  forget(batch: readonly Outcome[]): void {
    for (const o of batch) {
      const c = this.byJob.get(o.jobId);
      if (c && c.attempt === o.attempt) this.byJob.delete(o.jobId);
    }
  }
}
