/**
 * A TCP proxy the fault scenarios control: the endpoint clients use, in front of PostgreSQL or
 * NATS. Modes:
 *   pass       — forward both ways (with `latencyMs` added to each chunk, each direction)
 *   half-open  — new connections are accepted and never answered (no upstream is dialled);
 *                existing ones keep working
 *   partition  — nothing flows on any connection, new ones hang too; on heal the paused data
 *                flows on, as TCP retransmission would deliver it after a real partition
 * `retarget()` points new connections elsewhere (failover), `cut()` destroys the current ones and
 * `freeze()` makes them black holes for good: open, never answering, never closed (a peer that
 * vanished without a FIN or RST, as after a crash behind a NAT) — only a client timeout ends them.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'half-open' | 'partition';

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  /** Frozen by freeze(): kept open and paused forever. */
  private readonly frozen = new Set<Pair>();
  /** Connections accepted in half-open/partition mode and never answered. */
  private readonly silent = new Set<Socket>();
  mode: ProxyMode = 'pass';
  latencyMs = 0;
  port = 0;
  /** Connections accepted so far (a reconnect storm shows here). */
  accepted = 0;

  constructor(
    private targetHost: string,
    private targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((c) => this.accept(c));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  retarget(host: string, port: number): void {
    this.targetHost = host;
    this.targetPort = port;
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
    const paused = mode === 'partition';
    for (const p of this.pairs) {
      if (paused) {
        p.client.pause();
        p.upstream?.pause();
      } else {
        p.client.resume();
        p.upstream?.resume();
      }
    }
    if (mode === 'pass') {
      // Connections that hung during a partition are dialled now; half-open ones stay dead.
      for (const c of [...this.silent]) if ((c as Socket & { partitioned?: boolean }).partitioned) this.dial(c);
    }
  }

  /** Current connections stop answering for good (see the class comment). */
  freeze(): void {
    for (const p of this.pairs) {
      // Swallow whatever arrives (never forwarded, never answered), but keep reading so a client
      // that gives up is seen closing.
      for (const s of [p.client, p.upstream]) {
        if (!s) continue;
        s.removeAllListeners('data');
        s.on('data', () => {});
      }
      p.upstream?.removeAllListeners('close');
      p.client.removeAllListeners('close');
      p.client.on('close', () => p.upstream?.destroy());
      this.frozen.add(p);
    }
    this.pairs.clear();
  }

  /** Frozen connections that their client has not given up on yet. */
  get frozenOpen(): number {
    return [...this.frozen].filter((p) => !p.client.destroyed).length;
  }

  /** Destroys every current connection (both sides), as a dead server would. */
  cut(): void {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream?.destroy();
    }
    this.pairs.clear();
    for (const p of this.frozen) {
      p.client.destroy();
      p.upstream?.destroy();
    }
    this.frozen.clear();
    for (const c of this.silent) c.destroy();
    this.silent.clear();
  }

  get connections(): number {
    return this.pairs.size;
  }

  private accept(client: Socket): void {
    this.accepted++;
    client.on('error', () => {});
    if (this.mode === 'half-open' || this.mode === 'partition') {
      (client as Socket & { partitioned?: boolean }).partitioned = this.mode === 'partition';
      client.pause();
      this.silent.add(client);
      client.on('close', () => this.silent.delete(client));
      return;
    }
    this.dial(client);
  }

  private dial(client: Socket): void {
    this.silent.delete(client);
    const pair: Pair = { client, upstream: undefined };
    this.pairs.add(pair);
    const upstream = connect(this.targetPort, this.targetHost);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => (upstream.destroy(), this.pairs.delete(pair)));
    upstream.on('close', () => (client.destroy(), this.pairs.delete(pair)));
    this.pipe(client, upstream);
    this.pipe(upstream, client);
    client.resume();
  }

  /** Forwards chunks in order, each delayed by the latency in force when it arrived. */
  private pipe(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk) => {
      const delay = this.latencyMs;
      if (delay <= 0) {
        chain = chain.then(() => void to.write(chunk));
        return;
      }
      const due = performance.now() + delay;
      chain = chain.then(
        () =>
          new Promise<void>((r) =>
            setTimeout(
              () => {
                if (!to.destroyed) to.write(chunk);
                r();
              },
              Math.max(0, due - performance.now()),
            ),
          ),
      );
    });
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
