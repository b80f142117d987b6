import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '@jobline/core';
import { internals, LeaderService } from '@jobline/core/internal';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

/** The one lead/follow base (node/leader-service.ts), driven over the real lease table. */
class Probe extends LeaderService {
  readonly log: string[] = [];
  active = false;
  constructor(name: string, holder: string, db: Queryable, s: string, ttlMs: number) {
    super({ db, s, name, holder, ttlMs });
  }
  protected lead(term: number): void {
    expect(this.active).toBe(false); // lead and follow alternate strictly
    this.active = true;
    this.log.push(`lead ${term}`);
  }
  protected follow(): void {
    expect(this.active).toBe(true);
    this.active = false;
    this.log.push('follow');
  }
}

let db: TestDb;
let s: string;
beforeAll(async () => {
  db = await openTestDb();
  s = `"${db.schema}"`;
});
afterAll(() => db.close());

const holderOf = async (name: string) =>
  (await db.sql(`select holder from ${s}.leases where name = $1`, [name]))[0]?.holder as string | undefined;

/** Samples both probes every 5 ms and remembers the most that led at once. */
function watchLeaders(probes: Probe[]): { max: () => number; stop: () => void } {
  let max = 0;
  const t = setInterval(() => (max = Math.max(max, probes.filter((p) => p.isLeader).length)), 5);
  return { max: () => max, stop: () => clearInterval(t) };
}

describe('LeaderService (the shared lead/follow base)', () => {
  it("two nodes, one leader; the other takes over once the dead leader's lease expires (backdated, not waited for)", async () => {
    // A's own pool stands for A's process: ending it makes every later renewal fail, as a dead or
    // partitioned process would, without releasing the lease row.
    const poolA = new pg.Pool({ connectionString: db.url, max: 1 });
    const a = new Probe('t-takeover', 'a', poolA, s, 60_000);
    // b's queries go to the real pool; counting them tells when b has tried (and failed) a few times.
    let tries = 0;
    const counted: Queryable = {
      query: ((...args: Parameters<pg.Pool['query']>) => (tries++, internals(db.jl).pool.query(...args))) as Queryable['query'],
    };
    const b = new Probe('t-takeover', 'b', counted, s, 600); // b retries every 200 ms
    try {
      a.start();
      await waitFor(() => a.isLeader, 10_000, 'a to lead');
      const watch = watchLeaders([a, b]);
      b.start();
      await waitFor(() => tries >= 3, 10_000, 'b to try three times');
      expect(await holderOf('t-takeover')).toBe('a');
      expect(b.isLeader).toBe(false);
      watch.stop();
      expect(watch.max()).toBe(1);
      // a dies: no renewal, no release. Its lease would hold b off for 60 s; backdate it instead.
      await poolA.end();
      await db.sql(`update ${s}.leases set expires_at = now() - interval '1 second' where name = 't-takeover'`);
      await waitFor(() => b.isLeader, 10_000, 'b to take over');
      expect(await holderOf('t-takeover')).toBe('b');
      expect(b.log).toEqual(['lead 1']);
      // a learns at its next renewal (20 s away with a 60 s lease): not waited for here; the lease
      // TTL is what keeps two leaders apart, which the backdating above deliberately skipped.
    } finally {
      await b.stop();
      await a.stop();
    }
    expect(b.log).toEqual(['lead 1', 'follow']);
    expect(await holderOf('t-takeover')).toBeUndefined(); // stop() released it
  });

  it('loses leadership when another holder has the row at renewal, and never leads twice', async () => {
    const a = new Probe('t-lose', 'a', internals(db.jl).pool, s, 300);
    const events: boolean[] = [];
    a.on('leader', (l: boolean) => events.push(l));
    a.start();
    try {
      await waitFor(() => a.isLeader, 10_000, 'a to lead');
      await db.sql(`update ${s}.leases set holder = 'thief', expires_at = now() + interval '1 hour' where name = 't-lose'`);
      await waitFor(() => !a.isLeader, 10_000, 'a to notice');
      expect(a.log).toEqual(['lead 1', 'follow']);
      // The thief's lease expires: a takes the row again, as a new term.
      await db.sql(`update ${s}.leases set expires_at = now() - interval '1 second' where name = 't-lose'`);
      await waitFor(() => a.isLeader, 10_000, 'a to lead again');
      expect(a.log).toEqual(['lead 1', 'follow', 'lead 2']);
    } finally {
      await a.stop();
    }
    expect(events).toEqual([true, false, true, false]);
  });

  it('steps down: gives the row up at once, a standby takes it, the one that stepped down waits its pause', async () => {
    const a = new Probe('t-step', 'a', internals(db.jl).pool, s, 600);
    const b = new Probe('t-step', 'b', internals(db.jl).pool, s, 600);
    a.start();
    try {
      await waitFor(() => a.isLeader, 10_000, 'a to lead');
      b.start();
      const watch = watchLeaders([a, b]);
      await a.stepDown(60_000);
      expect(a.isLeader).toBe(false);
      await waitFor(() => b.isLeader, 10_000, 'b to take over');
      watch.stop();
      expect(watch.max()).toBeLessThanOrEqual(1); // never both (the sampler may not have run while only one led)
      expect(a.log).toEqual(['lead 1', 'follow']);
      expect(await holderOf('t-step')).toBe('b');
      await b.stop(); // released at once; a is still in its 60 s pause and does not take it
      expect(await holderOf('t-step')).toBeUndefined();
      expect(a.isLeader).toBe(false);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('stop() before the first renewal landed gives back a lease taken while stopping, unannounced', async () => {
    const a = new Probe('t-stop', 'a', internals(db.jl).pool, s, 600);
    a.start();
    await a.stop(); // the first acquire is in flight here
    expect(a.log).toEqual([]);
    expect(await holderOf('t-stop')).toBeUndefined();
  });
});
