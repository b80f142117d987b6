import type { ResolvedEventsOptions } from '../events/options.js';
import type { ScheduleHost } from '../schedule/index.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from '../worker/options.js';
import { Worker, type WorkerDeps, type WorkerStats } from '../worker/worker.js';
import type { LeaderService } from './leader-service.js';
import { Maintenance } from './maintenance.js';
import { RelayService } from './relay-service.js';
import { SchedulerService } from './scheduler-service.js';
import { installSignalHandlers } from './signals.js';

/** What a node needs: the worker's deps, plus what its leader services need. */
export interface NodeDeps extends WorkerDeps {
  /** Event stream and relay settings; with `natsUrl`, the node runs a relay. */
  events?: ResolvedEventsOptions;
  /** What the cron scheduler needs; unset = no scheduler on this node. */
  schedules?: ScheduleHost;
}

/** How often a container-capable worker that does not lead maintenance reaps containers of dead workers. */
const FOLLOWER_REAP_MS = 30_000;

/**
 * One process's share of the cluster, what `jl.worker()` returns: a worker runtime
 * (worker/worker.ts: claim, run, complete) and the leader services it takes part in —
 * maintenance (promotion, rescue, retention), the event relay, the cron scheduler — each leading
 * only while it holds its lease (leader-service.ts). Options `maintenance`, `relay` and
 * `scheduler` turn services off. start() starts the worker, then the services; stop() stops the
 * worker (running jobs finish or are released, outcomes written), then the services (leases
 * released at once). The worker's events (`claimed`, `outcome`, `rejected`, `warning`) are
 * subscribed to through `on`/`once`/`off` here.
 */
export class JoblineNode {
  readonly worker: Worker;
  /** Promotion, rescue and retention (the `maintenance` lease). */
  readonly maintenance: Maintenance | undefined;
  /** The outbox relay, when NATS is configured (it publishes only while holding the `relay` lease). */
  readonly relay: RelayService | undefined;
  /** The cron scheduler (it runs passes only while holding the `scheduler` lease). */
  readonly scheduler: SchedulerService | undefined;
  private readonly warn: (err: unknown, what: string) => void;
  private reapTimer: NodeJS.Timeout | undefined;
  private uninstallSignals: (() => void) | undefined;
  private stopPromise: Promise<void> | undefined;

  constructor(
    private readonly deps: NodeDeps,
    opts: WorkerOptions,
  ) {
    const o = resolveWorkerOptions(opts);
    const w = (this.worker = new Worker(deps, o));
    const log = deps.logger.child({ workerId: w.id });
    const warn = (err: unknown, what: string) => {
      log.warn({ err }, what);
      w.emit('warning', err);
    };
    this.warn = warn;
    if (o.maintenance) {
      this.maintenance = new Maintenance({ ...deps, afterRescue: () => w.cleanUpAfterRescue(), onError: warn }, w.id, o);
    }
    if (o.relay && deps.natsUrl && deps.events) {
      this.relay = new RelayService({ pool: deps.pool, s: deps.s, natsUrl: deps.natsUrl, events: deps.events, logger: log, holder: w.id });
    }
    if (o.scheduler !== false && deps.schedules) {
      const tuning = typeof o.scheduler === 'object' ? o.scheduler : {};
      this.scheduler = new SchedulerService(deps.schedules, { leaseTtlMs: o.leaseTtlMs, ...tuning, id: w.id });
      this.scheduler.on('warning', (err, step) => warn(err, `scheduler step ${step} failed`));
    }
  }

  get id(): string {
    return this.worker.id;
  }
  get options(): ResolvedWorkerOptions {
    return this.worker.options;
  }
  get stats(): WorkerStats {
    return this.worker.stats;
  }
  /** Jobs running right now. */
  get inFlight(): number {
    return this.worker.inFlight;
  }
  /** Outcomes not yet written; beyond their allowance, claiming pauses (worker/outcome-backpressure.ts). */
  get pendingOutcomes(): number {
    return this.worker.pendingOutcomes;
  }
  get executors(): Worker['executors'] {
    return this.worker.executors;
  }
  get wakeups(): Worker['wakeups'] {
    return this.worker.wakeups;
  }

  on(event: string, listener: (...args: any[]) => void): this {
    this.worker.on(event, listener);
    return this;
  }
  once(event: string, listener: (...args: any[]) => void): this {
    this.worker.once(event, listener);
    return this;
  }
  off(event: string, listener: (...args: any[]) => void): this {
    this.worker.off(event, listener);
    return this;
  }

  private get services(): LeaderService[] {
    return [this.maintenance, this.relay, this.scheduler].filter((x): x is NonNullable<typeof x> => x !== undefined);
  }

  async start(): Promise<this> {
    const w = this.worker;
    await w.start();
    // The leader reaps after each rescue pass; a follower that can reach the engine does it now
    // and then too, so containers of dead workers go even when the leader has no engine access.
    if (w.executors.get('container') && !this.reapTimer) {
      this.reapTimer = setInterval(() => {
        if (this.maintenance?.isLeader) return;
        w.cleanUpAfterRescue().catch((err) => this.warn(err, 'reaping containers of dead workers failed'));
      }, FOLLOWER_REAP_MS);
      this.reapTimer.unref();
    }
    for (const s of this.services) s.start();
    if (!this.deps.natsUrl)
      this.deps.logger.info(
        'NATS_URL is not set: status events stay in the outbox table (`jobline events tail` reads them); no relay runs',
      );
    if (w.options.handleSignals && !this.uninstallSignals) {
      this.uninstallSignals = installSignalHandlers(
        this.deps.logger,
        () => this.stop(),
        () => w.releaseNow(),
      );
    }
    return this;
  }

  /** Stops the worker (see Worker.stop), then the leader services, which give their leases up at once. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      await this.worker.stop();
      clearInterval(this.reapTimer);
      await Promise.all(this.services.map((s) => s.stop()));
      this.uninstallSignals?.();
    })();
    return this.stopPromise;
  }
}
