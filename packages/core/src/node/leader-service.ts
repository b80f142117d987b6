import { EventEmitter } from 'node:events';
import { releaseLease, tryAcquireLease } from '../db/leases.js';
import type { Queryable } from '../db/pool.js';

/** Which lease a leader service competes for, and as whom. */
export interface LeaseSpec {
  db: Queryable;
  /** Quoted schema, for SQL. */
  s: string;
  /** The `leases.name` row: `maintenance`, `relay`, `scheduler`. */
  name: string;
  /** This process's id in `leases.holder` (the worker id). */
  holder: string;
  ttlMs: number;
}

/**
 * The one lead/follow loop over the `leases` table, shared by every leader service (maintenance,
 * relay, scheduler). A subclass says what to do on `lead(term)` and `follow()`; this class owns
 * the rest, once:
 *
 * - **acquire / renew**: the same upsert (db/leases.ts) every `ttlMs / 3`, so two missed renewals
 *   still leave the lease held;
 * - **lose**: a renewal that fails (someone else holds it, or the database is unreachable) ends
 *   leadership at once — the service stops leading before another holder can start;
 * - **step down**: give the lease up now and compete again after a pause;
 * - **stop**: wait for a renewal in flight (it could re-take the lease after the release), follow,
 *   let the service `settle` (finish the ended term's work), then delete the lease row so a
 *   successor takes over without waiting for the TTL.
 *
 * `lead` and `follow` alternate strictly (never two leads in a row), and each term has its own
 * number so a service can tell a loop of an earlier term to exit even if leadership came back.
 * Events: `leader` (boolean).
 */
export abstract class LeaderService extends EventEmitter {
  private timer: NodeJS.Timeout | undefined;
  /** This process holds the lease row (it may have taken it while stopping, unannounced). */
  private held = false;
  /** `lead` was called and `follow` not yet. */
  private leading = false;
  private started = false;
  private stopped = false;
  private renewal: Promise<void> = Promise.resolve();
  private terms = 0;

  constructor(protected readonly lease: LeaseSpec) {
    super();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Leadership terms this service has had (the current one while leading). */
  get term(): number {
    return this.terms;
  }

  /** Starts competing for the lease; the service leads while it holds it. */
  start(): this {
    if (this.started || this.stopped) return this;
    this.started = true;
    this.renewal = this.renew();
    return this;
  }

  /** Became leader: start the passes of term `term`. */
  protected abstract lead(term: number): void;
  /** No longer leader (lost, stepped down or stopping): stop the passes. Called once per `lead`. */
  protected abstract follow(): void;
  /**
   * Before the lease row is given back (step down, stop): wait for the ended term's work, so a
   * successor never runs beside it. `stopping` = the service will not lead again.
   */
  protected settle(_stopping: boolean): Promise<void> {
    return Promise.resolve();
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    let holds = false;
    try {
      holds = await tryAcquireLease(this.lease.db, this.lease.s, this.lease.name, this.lease.holder, this.lease.ttlMs);
    } catch {
      holds = false; // database unreachable: assume we lost it; a later renewal retakes it
    }
    this.held = holds;
    // Taken while stopping: held (so stop() gives it back) but not announced.
    if (holds && !this.leading && !this.stopped) {
      this.leading = true;
      const term = ++this.terms;
      this.emit('leader', true);
      this.lead(term);
    } else if (!holds) {
      this.endTerm();
    }
    this.schedule(Math.max(50, Math.floor(this.lease.ttlMs / 3)));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.renewal = this.renew()), ms);
    this.timer.unref();
  }

  private endTerm(): void {
    if (!this.leading) return;
    this.leading = false;
    this.follow();
    this.emit('leader', false);
  }

  private async giveBack(stopping: boolean): Promise<void> {
    this.endTerm();
    await this.settle(stopping);
    if (!this.held) return;
    this.held = false;
    await releaseLease(this.lease.db, this.lease.s, this.lease.name, this.lease.holder).catch(() => {});
  }

  /**
   * Gives leadership up now and competes again after `pauseMs` (default: one TTL, long enough
   * for another process to take it). Without the lease, only the pause applies.
   */
  async stepDown(pauseMs = this.lease.ttlMs): Promise<void> {
    clearTimeout(this.timer);
    await this.renewal;
    await this.giveBack(false);
    if (this.started) this.schedule(pauseMs);
  }

  /** Stops competing, follows if leading, and releases the lease. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A renewal in flight could re-take the lease after we release it: let it land first.
    await this.renewal;
    await this.giveBack(true);
  }
}
