import type pg from 'pg';
import type { ExecutorSet } from '../executors/executor-set.js';
import { anyDefinitionBeyond, type ClaimFilter } from '../queue/claim.js';
import { backoffFor, getQueueSettings, type QueueSettings } from '../queue/queue-config.js';
import type { ResolvedBackoff } from '../queue/retry.js';

/** How soon a changed `queues.concurrency_limit` reaches running workers. */
const QUEUE_CONFIG_REFRESH_MS = 5000;

/**
 * What the worker knows of its queues, re-read every few seconds: their settings (backoff
 * overrides), which have a concurrency limit (their claims take a per-queue lock), and whether
 * definitions exist that this worker cannot run (claims then skip their jobs).
 */
export class QueueView {
  private settings = new Map<string, QueueSettings>();
  limitedQueues: string[] = [];
  claimFilter: ClaimFilter | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly s: string,
    private readonly queues: string[],
    private readonly executors: ExecutorSet,
    private readonly warn: (err: unknown, msg: string) => void,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), QUEUE_CONFIG_REFRESH_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  backoff(queue: string, fallback: ResolvedBackoff): ResolvedBackoff {
    return backoffFor(this.settings.get(queue), fallback);
  }

  /** A job of a definition this worker cannot run was claimed: claims filter from now on. */
  restrict(): void {
    this.claimFilter = this.executors.claimFilter();
  }

  private async refresh(): Promise<void> {
    try {
      const rows = await getQueueSettings(this.pool, this.s, this.queues);
      this.settings = new Map(rows.map((q) => [q.name, q]));
      this.limitedQueues = rows.filter((q) => q.concurrencyLimit !== undefined).map((q) => q.name);
      if (this.executors.restricted) {
        const f = this.executors.claimFilter();
        this.claimFilter = (await anyDefinitionBeyond(this.pool, this.s, f)) ? f : undefined;
      }
    } catch (err) {
      this.warn(err, 'reading queue limits failed; keeping the last known ones');
    }
  }
}
