import { EventEmitter } from 'node:events';
import { jetstreamManager } from '@nats-io/jetstream';
import type pg from 'pg';
import type { Logger } from 'pino';
import { backoffDelay } from '../lib/backoff.js';
import { envelopeJson, natsSubject } from './envelope.js';
import { NatsLink } from './nats-link.js';
import { BatchPublisher } from './publisher.js';
import type { ResolvedEventsOptions } from './options.js';
import { deleteEvents, outboxBacklog, readOutbox } from './outbox-read.js';
import { ensureStream } from './stream.js';

export interface RelayDeps {
  pool: pg.Pool;
  /** Quoted schema for SQL. */
  s: string;
  natsUrl: string;
  events: ResolvedEventsOptions;
  logger: Logger;
  /** Lease holder id (the worker id); names the NATS connection. */
  holder: string;
}

export interface RelayStats {
  /** This process holds the `relay` lease. */
  leader: boolean;
  connected: boolean;
  /** Events acknowledged by JetStream (duplicates included) and removed from the outbox. */
  published: number;
  /** Acks that JetStream marked duplicate: an earlier publish of the same event id had been stored. */
  duplicates: number;
  batches: number;
  publishErrors: number;
  /** Outbox rows waiting, as of the last measurement (leader only). */
  backlog: number;
  oldestAgeMs: number;
}

/** After a short batch the relay lingers this long so the next one is worth a round trip. */
const LINGER_MS = 10;
const LOG_EVERY_MS = 30_000;

/**
 * The outbox relay (DESIGN §5): the publishing side. Who publishes is decided outside — the
 * `relay` leader service (node/relay-service.ts) calls `lead()` while it holds the lease and
 * `follow()` when it loses it; this class only publishes while leading. A batch is the oldest `batchSize` rows in id order, all published at once (so up to
 * `batchSize` in flight) with `Nats-Msg-Id` = the event id; the rows JetStream acked — duplicate
 * acks included — are deleted, anything else stays for the next batch. So a row leaves the outbox
 * only once it is in the stream, and a publish repeated after a crash or takeover is dropped by
 * the stream's duplicate window. The relay never touches the hot path: producers and workers
 * only insert rows; when NATS is down the rows wait and the relay backs off and reconnects.
 *
 * Events: `acked` ({ ids, duplicates }) after the acks and before the delete, `warning` (err).
 */
export class Relay extends EventEmitter {
  readonly stats: RelayStats = {
    leader: false,
    connected: false,
    published: 0,
    duplicates: 0,
    batches: 0,
    publishErrors: 0,
    backlog: 0,
    oldestAgeMs: 0,
  };
  private readonly link: NatsLink;
  private readonly log: Logger;
  private leading = false;
  /** Each leadership term runs its own loop; a loop from an earlier term exits even if leadership came back. */
  private term = 0;
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  private backlogTimer: NodeJS.Timeout | undefined;
  private publisher: BatchPublisher | undefined;
  private readonly sourceJson: string;
  private streamGeneration = -1;
  private lastLog = new Map<string, number>();

  constructor(private readonly deps: RelayDeps) {
    super();
    this.sourceJson = JSON.stringify(deps.events.source);
    this.log = deps.logger.child({ component: 'relay', stream: deps.events.stream });
    this.link = new NatsLink(deps.natsUrl, `jobline-relay ${deps.holder}`, this.log, () => this.wake());
  }

  /** Outbox rows waiting, as of the last measurement; the metric to alert on. */
  get backlog(): number {
    return this.stats.backlog;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts publishing (a new leadership term); a loop of an earlier term exits. */
  lead(): void {
    if (this.stopped || this.leading) return;
    this.leading = this.stats.leader = true;
    this.log.info('became relay leader');
    this.backlogTimer = setInterval(() => void this.measureBacklog(), this.deps.events.backlogIntervalMs);
    this.backlogTimer.unref();
    void this.measureBacklog();
    const term = ++this.term;
    this.loopDone = this.loopDone.then(() => this.run(term));
  }

  /** Stops publishing after the batch in flight (leadership lost or given up). */
  follow(): void {
    if (!this.leading) return;
    this.leading = this.stats.leader = false;
    clearInterval(this.backlogTimer);
    this.log.info('no longer relay leader');
    this.wake();
  }

  /** Resolves when the publishing loop of the ended term has exited. */
  idle(): Promise<void> {
    return this.loopDone;
  }

  private active(term: number): boolean {
    return this.leading && !this.stopped && term === this.term;
  }

  // ---- the publishing loop ------------------------------------------------------------------

  private async run(term: number): Promise<void> {
    let failures = 0;
    while (this.active(term)) {
      try {
        const nc = await this.link.open();
        this.stats.connected = this.link.connected;
        if (!this.link.connected) {
          await this.sleep(this.backoff(failures++));
          continue;
        }
        if (this.streamGeneration !== this.link.generation) {
          await ensureStream(await jetstreamManager(nc), this.deps.events, this.log);
          this.publisher?.close();
          this.publisher = new BatchPublisher(nc);
          this.streamGeneration = this.link.generation;
        }
        const n = await this.relayBatch(this.publisher!);
        failures = 0;
        if (n < this.deps.events.batchSize) await this.sleep(n === 0 ? this.deps.events.pollIntervalMs : LINGER_MS);
      } catch (err) {
        this.streamGeneration = -1; // re-check the stream: it may be gone (NATS restarted without its store)
        this.throttledWarn('relay', err, 'relaying events failed; retrying with backoff (events wait in the outbox)');
        await this.sleep(this.backoff(failures++));
      }
    }
    this.publisher?.close();
    this.publisher = undefined;
    this.streamGeneration = -1;
    await this.link.close();
    this.stats.connected = false;
  }

  /** Publishes one batch; returns the rows read. Throws (after deleting what was acked) when a publish failed. */
  private async relayBatch(publisher: BatchPublisher): Promise<number> {
    const { pool, s, events: o } = this.deps;
    const rows = await readOutbox(pool, s, o.batchSize);
    if (!rows.length) return 0;
    // All publishes are written to the socket in this one synchronous pass, in id order.
    const results = await publisher.publish(
      rows.map((row) => ({
        subject: natsSubject(row, o.subjectPrefix),
        payload: envelopeJson(row, this.sourceJson),
        msgId: String(row.id),
      })),
      o.publishTimeoutMs,
    );
    const ids: number[] = [];
    let duplicates = 0;
    let failure: Error | undefined;
    results.forEach((r, i) => {
      if (r.ok) {
        ids.push(rows[i].id);
        if (r.duplicate) duplicates++;
      } else failure ??= r.error;
    });
    this.emit('acked', { ids, duplicates });
    if (ids.length) await deleteEvents(pool, s, ids);
    this.stats.batches++;
    this.stats.published += ids.length;
    this.stats.duplicates += duplicates;
    if (failure) {
      this.stats.publishErrors += rows.length - ids.length;
      throw failure;
    }
    return rows.length;
  }

  private backoff(failures: number): number {
    return backoffDelay(failures, { baseMs: 100, maxMs: 5000, spread: 0.2 }); // 100 ms doubling to 5 s, ±20%
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private wake(): void {
    this.stats.connected = this.link.connected;
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  // ---- backlog ------------------------------------------------------------------------------

  private async measureBacklog(): Promise<void> {
    try {
      const b = await outboxBacklog(this.deps.pool, this.deps.s);
      this.stats.backlog = b.rows;
      this.stats.oldestAgeMs = b.oldestAgeMs;
      const o = this.deps.events;
      if (b.rows >= o.backlogAlertThreshold) {
        this.throttled('alert', () =>
          this.log.warn(
            { backlog: b.rows, oldestAgeMs: b.oldestAgeMs, threshold: o.backlogAlertThreshold, connected: this.link.connected },
            'event outbox above its alert threshold: check NATS and the relay (no event is dropped)',
          ),
        );
      } else if (b.rows > 0 && (!this.link.connected || b.oldestAgeMs > 10_000)) {
        this.throttled('backlog', () =>
          this.log.info({ backlog: b.rows, oldestAgeMs: b.oldestAgeMs, connected: this.link.connected }, 'events waiting in the outbox'),
        );
      }
    } catch (err) {
      this.throttledWarn('backlog', err, 'measuring the outbox backlog failed');
    }
  }

  private throttled(key: string, fn: () => void): void {
    const now = Date.now();
    if (now - (this.lastLog.get(key) ?? 0) < LOG_EVERY_MS) return;
    this.lastLog.set(key, now);
    fn();
  }

  private throttledWarn(key: string, err: unknown, msg: string): void {
    this.emit('warning', err);
    this.throttled(key, () => this.log.warn({ err }, msg));
  }

  /** Finishes the batch in flight (publishes still unacked after 1 s are abandoned: their rows stay) and closes NATS; the service then gives up the lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.backlogTimer);
    this.wake();
    const grace = new Promise<void>((r) => setTimeout(r, 1000).unref());
    await Promise.race([this.loopDone, grace]);
    this.publisher?.close(); // unanswered publishes fail now instead of at their timeout; their rows stay
    await this.link.close();
    await this.loopDone;
    this.leading = this.stats.leader = false;
  }
}
