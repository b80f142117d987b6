import pg from 'pg';
import { pgTypes } from '../db/pool.js';
import { backoffDelay } from '../lib/backoff.js';

/**
 * A dedicated connection for LISTEN (a pooled one would lose its subscriptions when reused).
 * Reconnects with backoff. Each time LISTEN takes effect — at start and after every reconnect — it
 * calls `onListening`: notifications sent before that moment reached nobody, so the owner should
 * re-read once (an owner that read before LISTEN was in place would otherwise miss a change made
 * in between until its next poll).
 *
 * `connectionString` undefined = no LISTEN possible (a transaction-mode pooler and no direct URL,
 * db/connection-options.ts): start() only calls `onListening` once, and the owner relies on NATS
 * wake-ups or its poll. While connected, a `select 1` every `pingMs` (answered within 5 s) finds a half-open connection that TCP keepalive cannot (a proxy
 * in the middle answers the keepalives) and replaces it.
 */
export class Listener {
  private client: pg.Client | undefined;
  private stopped = false;
  private failures = 0; // reconnects since LISTEN last took effect
  /** Clients whose loss was already handled ('error' and 'end' both fire for one loss). */
  private readonly lost = new WeakSet<pg.Client>();

  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string | undefined,
    private readonly applicationName: string,
    private readonly channels: string[],
    private readonly onNotify: (channel: string, payload: string) => void,
    private readonly onListening: () => void,
    private readonly extra: pg.ClientConfig = {},
    private readonly pingMs = 10_000,
  ) {}

  async start(): Promise<void> {
    if (this.connectionString === undefined) return this.onListening();
    await this.connect(true);
  }

  private ping(client: pg.Client): void {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => {
      if (this.client !== client) return;
      client.query({ text: 'select 1', query_timeout: 5000 } as pg.QueryConfig).then(
        () => this.ping(client),
        () => {
          this.scheduleReconnect(client);
          client.end().catch(() => {});
        },
      );
    }, this.pingMs);
    this.pingTimer.unref();
  }

  private async connect(first: boolean): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      keepAlive: true,
      ...this.extra,
      connectionString: this.connectionString,
      application_name: this.applicationName,
      types: pgTypes,
    });
    client.on('notification', (m) => this.onNotify(m.channel, m.payload ?? ''));
    client.on('error', () => this.scheduleReconnect(client));
    client.on('end', () => this.scheduleReconnect(client));
    try {
      await client.connect();
      for (const ch of this.channels) await client.query(`listen "${ch.replace(/"/g, '""')}"`);
      if (this.stopped) {
        // stop() ran while we were connecting: it had no client to end, so end this one here.
        this.lost.add(client);
        await client.end().catch(() => {});
        return;
      }
      this.client = client;
      this.failures = 0;
      this.ping(client);
      this.onListening();
    } catch (err) {
      client.end().catch(() => {});
      if (first) throw err;
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: pg.Client): void {
    if (this.stopped || this.lost.has(client) || (this.client && this.client !== client)) return;
    this.lost.add(client);
    this.client = undefined;
    const delay = backoffDelay(this.failures++, { baseMs: 250, maxMs: 5000 }); // 250 ms doubling to 5 s
    setTimeout(() => void this.connect(false), delay).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pingTimer);
    await this.client?.end().catch(() => {});
  }
}
