/**
 * The demo's moving parts: a database (embedded PostgreSQL, or a throwaway schema in
 * DATABASE_URL), the producer and two worker processes — started as real processes from the
 * apps' entry points, logging to files in a temporary directory — and their teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Jobline } from '@jobline/core';
import { createPool, dropSchema } from '@jobline/core/admin';
import { freePort, startEmbeddedPostgres, type EmbeddedPostgres } from '@jobline/embedded';
import pino from 'pino';
import { appEntry } from '../app-paths.js';

const PRODUCER_MAIN = appEntry('@jobline/producer');
const WORKER_MAIN = appEntry('@jobline/worker');
export const DEMO_HANDLERS = fileURLToPath(new URL('./handlers.js', import.meta.url));

export interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
}

export class Stack {
  embedded?: EmbeddedPostgres;
  url = '';
  schema = 'jobline';
  jl?: Jobline;
  dir = '';
  token = randomBytes(24).toString('hex');
  producerUrl = '';
  workerUrls: string[] = [];
  readonly procs: Proc[] = [];
  private dropSchema = false;
  private stopped = false;

  async startDatabase(): Promise<string> {
    this.dir = await mkdtemp(join(tmpdir(), 'jobline-demo-'));
    if (process.env.DATABASE_URL) {
      this.url = process.env.DATABASE_URL;
      this.schema = `jobline_demo_${randomBytes(4).toString('hex')}`;
      this.dropSchema = true;
      return `using DATABASE_URL, schema ${this.schema} (dropped at the end)`;
    }
    this.embedded = await startEmbeddedPostgres();
    this.url = this.embedded.url;
    return `embedded PostgreSQL on port ${this.embedded.port}`;
  }

  async migrate(): Promise<number> {
    this.jl = await Jobline.connect({
      databaseUrl: this.url,
      schema: this.schema,
      logger: pino({ level: 'silent' }),
      poolSize: 4,
      migrate: false,
    });
    return (await this.jl.migrate()).applied.length;
  }

  private env(extra: Record<string, string>): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: this.url,
      JOBLINE_SCHEMA: this.schema,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      // With NATS the workers relay the demo's events to JetStream (`jobline events tail` shows them).
      ...(process.env.NATS_URL ? { NATS_URL: process.env.NATS_URL } : {}),
      ...extra,
    };
  }

  /** Starts an app and resolves with the first stdout line matching `ready`. */
  private start(name: string, entry: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<RegExpExecArray> {
    const log = join(this.dir, `${name}.log`);
    const out = createWriteStream(log);
    const child = spawn(process.execPath, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stderr!.pipe(out);
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    this.procs.push({ name, child, log, exited });
    return new Promise((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d) => {
        buf += d;
        const m = ready.exec(buf);
        if (m) resolve(m);
      });
      void exited.then(() => reject(new Error(`${name} exited during start; see ${log}`)));
    });
  }

  async startProducer(): Promise<void> {
    const port = await freePort();
    const tokens = JSON.stringify([{ name: 'demo', token: this.token, queues: ['*'], scopes: ['read', 'write', 'admin'] }]);
    await this.start(
      'producer',
      PRODUCER_MAIN,
      [],
      this.env({ PORT: String(port), HOST: '127.0.0.1', JOBLINE_API_TOKENS: tokens, JOBLINE_MIGRATE: 'off' }),
      /listening on (\S+)/,
    );
    this.producerUrl = `http://127.0.0.1:${port}`;
  }

  async startWorker(n: number, queues: string[]): Promise<string> {
    const port = await freePort();
    const args = [
      ...['--queues', queues.join(','), '--concurrency', '8', '--handlers', DEMO_HANDLERS],
      ...['--port', String(port), '--host', '127.0.0.1', '--id', `demo-worker-${n}`],
      // Short backoff so the retries happen while you watch.
      ...['--backoff-base-ms', '250', '--backoff-max-ms', '1000', '--shutdown-grace-ms', '3000'],
    ];
    await this.start(`worker-${n}`, WORKER_MAIN, args, this.env({ JOBLINE_MIGRATE: 'off' }), /ready/);
    const url = `http://127.0.0.1:${port}`;
    this.workerUrls.push(url);
    return url;
  }

  /** Stops the processes (SIGTERM, SIGKILL after 5 s), the database, and removes the logs unless kept. */
  async stop(keepLogs = false): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    const all = Promise.all(this.procs.map((p) => p.exited));
    const timer = setTimeout(() => {
      for (const p of this.procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }, 5000);
    await all;
    clearTimeout(timer);
    if (this.dropSchema && this.jl) {
      const pool = createPool({ connectionString: this.url, max: 1, applicationName: 'jobline-demo' });
      await dropSchema(pool, this.schema).catch(() => {});
      await pool.end();
    }
    await this.jl?.close();
    await this.embedded?.stop();
    if (!keepLogs && this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Last resort on an unexpected exit: no process is left behind. */
  killNow(): void {
    for (const p of this.procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}
