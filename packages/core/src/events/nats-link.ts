import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/**
 * Jobline's NATS connection settings, for the relay and for wake-ups alike: reconnect forever,
 * detect a dead server in ~10 s (2 missed pings at 5 s).
 */
export function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    timeout: 2000,
    pingInterval: 5000,
    maxPingOut: 2,
    // An Error (with its stack) per request costs more than the publish itself at this rate.
    noAsyncTraces: true,
  });
}

/**
 * One NATS connection that knows whether it is usable right now. The client reconnects by itself
 * (forever, with jitter); `connected` turns false at once on a disconnect so the relay stops
 * publishing into a dead socket instead of waiting for ack timeouts. A publish issued while
 * disconnected is dropped by the client at reconnect (its buffer is reset), so what reached the
 * server of a batch is always a prefix of it: a retry can re-send, never reorder, a job's events.
 */
export class NatsLink {
  nc: NatsConnection | undefined;
  connected = false;
  /** Bumped on every (re)connect: the stream is re-ensured after a server restart. */
  generation = 0;

  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly log: Logger,
    private readonly onChange: () => void,
  ) {}

  /** Connects once; throws when the server is unreachable (the caller backs off). */
  async open(): Promise<NatsConnection> {
    if (this.nc) return this.nc;
    const nc = await connectNats(this.url, this.name);
    this.nc = nc;
    this.connected = true;
    this.generation++;
    this.log.info({ server: nc.getServer() }, 'connected to NATS');
    void this.watch(nc);
    void nc.closed().then(() => {
      if (this.nc !== nc) return;
      this.nc = undefined;
      this.connected = false;
      this.onChange();
    });
    return nc;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.nc !== nc) return;
      if (s.type === 'disconnect') {
        this.connected = false;
        this.log.warn({ server: s.server }, 'NATS disconnected: events wait in the outbox until it is back');
        this.onChange();
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.generation++;
        this.log.info({ server: s.server }, 'NATS reconnected');
        this.onChange();
      }
    }
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.connected = false;
    await nc?.close().catch(() => {});
  }
}
