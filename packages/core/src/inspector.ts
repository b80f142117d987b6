import type { Queryable } from './db/pool.js';
import { dagRunQueues, listDagRuns, type DagListFilter, type DagRunPage } from './dag/list.js';
import { outboxBacklog, type OutboxBacklog } from './events/outbox-read.js';
import { tableEstimates, throughput, workerOverview, type Throughput, type WorkerOverview } from './queue/activity.js';
import { queueOutcomes, type QueueOutcome } from './queue/outcomes.js';
import { queueOverview, type QueuePage, type QueuePageOptions } from './queue/overview.js';
import { searchJobs, type JobSearch, type JobSearchPage } from './queue/search.js';

/**
 * Bounded reads for dashboards and tools (`jl.inspect`): every list is paginated, every count
 * is capped or an estimate, so polling these is safe on large installations (queue/overview.ts, queue/activity.ts). Above dag/ and queue/, whose reads it combines.
 */
export class Inspector {
  constructor(
    private readonly db: Queryable,
    private readonly s: string,
  ) {}

  /** A page of queues with depth by state (exact to a cap, then estimated), settings and the oldest available job. */
  queues(o: QueuePageOptions = {}): Promise<QueuePage> {
    return queueOverview(this.db, this.s, o);
  }

  /** The last hour (or `windowMs`) of finished jobs: per minute and per queue. */
  throughput(o: { windowMs?: number; only?: readonly string[] } = {}): Promise<Throughput> {
    return throughput(this.db, this.s, o);
  }

  /** Workers that have not stopped, with heartbeat age and jobs in flight. */
  workers(limit = 100): Promise<WorkerOverview[]> {
    return workerOverview(this.db, this.s, limit);
  }

  /** Events waiting in the outbox (an upper-bound estimate from the id range) and the oldest one's age. */
  outbox(): Promise<OutboxBacklog> {
    return outboxBacklog(this.db, this.s);
  }

  /** Row-count estimates of the large tables (pg_class.reltuples). */
  tables(): Promise<Record<'jobs' | 'jobExecutions' | 'dagRuns', number>> {
    return tableEstimates(this.db, this.s);
  }

  /** Jobs by queue, state, name, creation time or DAG run; newest first, keyset-paginated. */
  jobs(search: JobSearch = {}): Promise<JobSearchPage> {
    return searchJobs(this.db, this.s, search);
  }

  /** DAG runs, newest first, keyset-paginated. */
  dagRuns(filter: DagListFilter = {}): Promise<DagRunPage> {
    return listDagRuns(this.db, this.s, filter);
  }

  /** Per-queue outcome over every job (counts, retries, wait and run percentiles); unbounded, for small schemas (outcomes.ts). */
  outcomes(): Promise<QueueOutcome[]> {
    return queueOutcomes(this.db, this.s);
  }

  /** The queues of each run's nodes. */
  dagRunQueues(ids: number[]): Promise<Map<number, string[]>> {
    return dagRunQueues(this.db, this.s, ids);
  }
}
