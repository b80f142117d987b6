import type pg from 'pg';
import { inTransaction, type Queryable } from '../db/pool.js';
import { advance, type NodeTransition } from './advance.js';
import { cancelDag } from './cancel.js';
import { getDag, type DagRunDetail } from './read.js';
import type { DagLimits } from './spec.js';
import { applyNodeDefinitions, insertDag } from './submit.js';
import { prepareDag } from './validate.js';
import { startSubmitSpan } from '../observability/tracing.js';
import { traceReleases } from './trace-release.js';

export interface DagEngineOptions {
  pool: pg.Pool;
  /** Quoted schema, for SQL. */
  s: string;
  jobsChannel: string;
  cancelChannel: string;
  limits: DagLimits;
}

/** What submitDag returns: the run as getDag shows it, and whether this call created it. */
export interface SubmittedDag extends DagRunDetail {
  /** false when a run with the same idempotency key existed and was returned instead. */
  created: boolean;
}

/** The DAG module's surface for Jobline: submit, read, cancel, and advancement for completions. */
export class DagEngine {
  constructor(private readonly o: DagEngineOptions) {}

  /**
   * Validates everything first, then writes the run in one transaction (the caller's, when
   * given). `callerTraceparent`: the caller's trace context, parent of the submit span when no
   * span is active (observability/README.md).
   */
  async submit(spec: unknown, tx?: Queryable, callerTraceparent?: string): Promise<SubmittedDag> {
    const dag = prepareDag(spec, this.o.limits);
    const trace = startSubmitSpan<SubmittedDag>(dag, callerTraceparent);
    const write = () =>
      inTransaction(this.o.pool, tx, async (db) => {
        await applyNodeDefinitions(db, this.o.s, dag);
        const { id, created } = await insertDag(db, this.o.s, this.o.jobsChannel, dag, trace.traceparent);
        return { ...(await getDag(db, this.o.s, id)), created };
      });
    if (!trace.span) return write();
    return trace.span.around(write, (span, run) => {
      span.setAttribute('jobline.dag.run_id', run.id);
      span.setAttribute('jobline.dag.created', run.created);
      const queues = new Set(run.nodes.map((n) => n.queue));
      if (queues.size === 1) span.setAttribute('messaging.destination.name', run.nodes[0].queue);
    });
  }

  get(id: number, db: Queryable = this.o.pool): Promise<DagRunDetail> {
    return getDag(db, this.o.s, id);
  }

  async cancel(id: number): Promise<DagRunDetail> {
    await cancelDag(this.o.pool, this.o.s, this.o.cancelChannel, id);
    return this.get(id);
  }

  /** Jobline.afterTransitions: runs in the transaction that finished the given node jobs. */
  async advance(tx: Queryable, rows: readonly NodeTransition[]): Promise<void> {
    await advance(tx, { s: this.o.s, jobsChannel: this.o.jobsChannel, maxInputBytes: this.o.limits.maxInputBytes }, rows);
    await traceReleases(tx, this.o.s, rows);
  }
}
