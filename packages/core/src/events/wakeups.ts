/**
 * Wake-ups over core NATS instead of LISTEN/NOTIFY (when `NATS_URL` is set).
 *
 * Why: NOTIFY takes a global lock at commit (it serialises committing transactions), and LISTEN
 * does not pass a transaction-mode pooler. A core NATS publish after the commit costs neither.
 * Producers publish on `jobline_wake.<schema>.<queue>` after the enqueue commits, debounced per
 * queue exactly like the NOTIFY (queue/notify.ts `Debounced`); workers subscribe to their
 * queues' subjects. Core NATS is at-most-once: a wake-up lost to a disconnect only delays a job
 * until the worker's next poll (the backstop). While the producer's connection is down it falls
 * back to NOTIFY for that wake-up.
 *
 * The subject is outside the event stream's `<prefix>.>` so JetStream never stores wake-ups.
 * Tokens that are not plain (`[A-Za-z0-9_-]+`) are sent as `%` + hex of their UTF-8 bytes.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { backoffDelay } from '../lib/backoff.js';
import { connectNats } from './nats-link.js';
import type { Logger } from 'pino';

const PLAIN = /^[A-Za-z0-9_-]+$/;
const token = (s: string) => (PLAIN.test(s) ? s : `%${Buffer.from(s, 'utf8').toString('hex')}`);

/** The core NATS subject of one queue's wake-ups. */
export const wakeSubject = (schema: string, queue: string) => `jobline_wake.${token(schema)}.${token(queue)}`;

/** Producer side: one connection, opened in the background; `publish` says whether it was sent. */
export class WakeupPublisher {
  private nc: NatsConnection | undefined;
  private connected = false;
  private closed = false;
  private readonly opening: Promise<void>;
  /** Wake-ups published (tests, metrics). */
  sent = 0;

  constructor(
    url: string,
    private readonly schema: string,
    name: string,
    private readonly log: Logger,
  ) {
    this.opening = this.open(url, name);
  }

  private async open(url: string, name: string): Promise<void> {
    for (let failures = 0; !this.closed; failures++) {
      try {
        const nc = await connectNats(url, name);
        if (this.closed) return void (await nc.close().catch(() => {}));
        this.nc = nc;
        this.connected = true;
        void (async () => {
          for await (const s of nc.status()) {
            if (s.type === 'disconnect') this.connected = false;
            else if (s.type === 'reconnect') this.connected = true;
          }
        })().catch(() => {});
        return;
      } catch (err) {
        this.log.warn({ err }, 'NATS wake-ups: cannot connect yet; NOTIFY is used meanwhile');
        await new Promise((r) => setTimeout(r, backoffDelay(failures, { baseMs: 250, maxMs: 5000 })).unref()); // 250 ms doubling to 5 s
      }
    }
  }

  /** Resolves once the first connection is up (tests, benchmarks); never rejects. */
  ready(): Promise<void> {
    return this.opening;
  }

  get isConnected(): boolean {
    return this.connected && !!this.nc && !this.nc.isClosed();
  }

  /** Publishes one wake-up; false when not connected (the caller sends a NOTIFY instead). */
  publish(queue: string): boolean {
    if (!this.isConnected) return false;
    try {
      this.nc!.publish(wakeSubject(this.schema, queue), queue);
      this.sent++;
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.opening.catch(() => {});
    await this.nc?.drain().catch(() => {});
  }
}

/** Worker side: subscribes to its queues' wake-up subjects; reconnects by itself. */
export class WakeupSubscriber {
  private nc: NatsConnection | undefined;
  private subs: Subscription[] = [];
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  /** Wake-ups received (tests, metrics). */
  received = 0;

  constructor(
    private readonly url: string,
    private readonly schema: string,
    private readonly queues: string[],
    private readonly name: string,
    private readonly onWake: (queue: string) => void,
    private readonly log: Logger,
  ) {}

  /** Never throws: while NATS is unreachable, LISTEN (if any) and polling carry the wake-ups. */
  async start(): Promise<void> {
    try {
      const nc = await connectNats(this.url, this.name);
      if (this.closed) return void (await nc.close().catch(() => {}));
      this.nc = nc;
      for (const q of this.queues) {
        const sub = nc.subscribe(wakeSubject(this.schema, q), { callback: () => (this.received++, this.onWake(q)) });
        this.subs.push(sub);
      }
      // A reconnect re-subscribes by itself; wake-ups sent in the gap were lost, so look once.
      void (async () => {
        for await (const s of nc.status()) if (s.type === 'reconnect') for (const q of this.queues) this.onWake(q);
      })().catch(() => {});
    } catch (err) {
      this.log.warn({ err }, 'NATS wake-ups: cannot connect; polling (and LISTEN where available) wake the worker meanwhile');
      if (!this.closed) this.retry = setTimeout(() => void this.start(), 2000);
      this.retry?.unref();
    }
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.nc?.close().catch(() => {});
  }
}
