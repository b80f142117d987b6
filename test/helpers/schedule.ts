/** Helpers for the schedule tests: an injected clock and a local webhook receiver. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestDb } from './db.js';

/** A clock the test moves by hand; pass `clock.now` as the scheduler's `now`. */
export class TestClock {
  private t: number;
  constructor(start: Date | string) {
    this.t = new Date(start).getTime();
  }
  now = (): Date => new Date(this.t);
  set(at: Date | string): void {
    this.t = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
}

export interface HookServer {
  url: string;
  received: ReceivedHook[];
  /** Decides the status of each request (default 200). */
  respond: (req: ReceivedHook, n: number) => number | Promise<number>;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1 that records every request. */
export async function startHookServer(): Promise<HookServer> {
  const hs: HookServer = {
    url: '',
    received: [],
    respond: () => 200,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', async () => {
      const rec: ReceivedHook = { path: req.url ?? '/', headers: req.headers, raw, body: raw ? JSON.parse(raw) : undefined };
      hs.received.push(rec);
      const status = await hs.respond(rec, hs.received.length);
      if (status === 0) return; // never answer (timeout tests); the socket is destroyed on close
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hs.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hs.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return hs;
}

export const HOUR = 3600_000;

/** Half past the current hour (UTC): hourly occurrences are never within seconds of it. */
export function halfPast(): Date {
  const d = new Date();
  d.setUTCMinutes(30, 0, 0);
  return d;
}

/** Unique names within a file: fresh('a') → 'a-0', 'a-1', … */
export function namer(): (prefix: string) => string {
  let n = 0;
  return (prefix) => `${prefix}-${n++}`;
}

/** Adds a schedule whose runs are materialised up to `cursor` (so the next pass starts there). */
export async function addScheduleAt(db: TestDb, spec: Parameters<TestDb['jl']['schedules']['add']>[0], cursor: Date): Promise<number> {
  const sc = await db.jl.schedules.add(spec);
  await db.q(`update $S.schedules set materialised_until = $2 where id = $1`, [sc.id, cursor]);
  return sc.id;
}

/** Removes every schedule, action and constraint (each test's are its own: a scheduler pass serves all). */
export async function clearScheduling(
  db: TestDb,
  what: ('schedules' | 'actions' | 'constraints')[] = ['schedules', 'actions', 'constraints'],
): Promise<void> {
  for (const t of what) await db.q(`delete from $S.${t}`);
}
