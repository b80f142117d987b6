import { JobState } from '../model/states.js';
import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import { makeCompleter, type AppliedOutcome, type Outcome } from '../queue/complete.js';
import type { TransitionHook } from '../queue/transitions.js';
import { NodeTraceContexts } from './trace-contexts.js';

/**
 * Writes one batch of outcomes (called by the BatchingCompleter). A batch with DAG jobs runs in
 * one transaction with the injected transition hook (DAG advancement, DESIGN §4); node jobs that
 * only became `retryable` do not advance. Returns the outcomes the fence refused (their attempt
 * had been rescued, cancelled or released meanwhile).
 */
export class OutcomeWriter {
  private readonly complete: ReturnType<typeof makeCompleter>;
  /** Completing attempts' span contexts of traced DAG nodes, until their batch is written. */
  readonly nodeTraces = new NodeTraceContexts();

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
    private readonly s: string,
    private readonly onTransitions: TransitionHook | undefined,
  ) {
    this.complete = makeCompleter(schema);
  }

  async write(batch: Outcome[]): Promise<Outcome[]> {
    const hook = this.onTransitions;
    let applied: AppliedOutcome[];
    if (hook && batch.some((o) => o.inDag)) {
      applied = await withTransaction(this.pool, async (tx) => {
        if (this.nodeTraces.size) await this.nodeTraces.write(tx, this.s, batch);
        const a = await this.complete(tx, batch);
        const moved = a.filter((x) => x.dagRunId !== undefined && x.state !== JobState.retryable);
        if (moved.length) await hook(tx, moved);
        return a;
      });
      if (this.nodeTraces.size) this.nodeTraces.forget(batch);
    } else {
      applied = await this.complete(this.pool, batch);
    }
    if (applied.length === batch.length) return [];
    const ok = new Set(applied.map((a) => `${a.id}:${a.attempt}`));
    return batch.filter((o) => !ok.has(`${o.jobId}:${o.attempt}`));
  }
}
