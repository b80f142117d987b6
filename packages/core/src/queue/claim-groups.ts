import type pg from 'pg';
import { quoteSchema } from '../db/identifiers.js';
import { mapJob, type Job, type JobRow } from '../model/job.js';
import type { Claimer, ClaimFilter } from './claim.js';
import { groupClaimSql, groupWaitSql } from './claim-groups-sql.js';
import { claimInOneTrip, forgetPrepared, lostSessionState, type NamedStatements } from './claim-groups-trip.js';
import { GroupCursors } from './group-cursors.js';

/**
 * The claim dispatch (issue 15): queues with group or rate limits (`queues.grouped_claims`) are
 * claimed by the grouped claim — one short transaction per queue: take the queue's advisory lock
 * (the key the plain claim's `limited` variant uses, so the two exclude each other), then claim in
 * a second statement whose snapshot sees every earlier claim (see `claim-groups-sql.ts` for why
 * that is exact), in one round trip where the pool keeps prepared statements
 * (`claim-groups-trip.ts`). Every other queue keeps the plain single-statement claim of `claim.ts`.
 *
 * Holding: while any group is held (`job_groups.held_reason`, set by quotas), every queue goes
 * through the grouped claim, which skips held groups at the group level (one look per group, not
 * one per job: a held tenant with 100,000 queued jobs costs a claim one index descent). Without a
 * held group and without limits, nothing changes for a queue: one extra read of the routing every
 * `routingRefreshMs`, shared by all claims of the worker. A hold therefore reaches a queue without
 * group settings within `routingRefreshMs` (1 s) and one read; a queue with them skips held groups at once.
 */
export interface GroupAwareClaimer extends Claimer {
  /**
   * Whether written outcomes should trigger a claim: the last grouped claim of some queue found a
   * group with work at its concurrency limit, so a slot freed by a completion can be used at once
   * (work-conserving) rather than at the next poll.
   */
  blockedByGroups(): boolean;
}

/** How often the worker re-reads which of its queues are grouped and whether any group is held. */
const ROUTING_REFRESH_MS = 1000;

interface Routing {
  grouped: Set<string>;
  anyHeld: boolean;
  at: number;
}

/**
 * The queue's lock for grouped claims: the two-int advisory key space (distinct from the bigint
 * keys of the `concurrencyLimit` claim, which skips grouped queues anyway), class 'JLGQ', object a
 * 32-bit FNV-1a of schema and queue. Two queues that collide only share a lock (they serialise,
 * nothing else). Numbers, so the lock can ride in the simple-protocol `begin` (one round trip less
 * per claim: begin + lock, claim, commit).
 */
const LOCK_CLASS = 0x4a4c4751 | 0;
function queueLockKey(schema: string, queue: string): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(`${schema}\u0000${queue}`, 'utf8')) h = Math.imul(h ^ ch, 0x01000193);
  return h | 0;
}

/** A transaction that starts holding the queue's lock; rolled back on any error. */
async function lockedTransaction<T>(pool: pg.Pool, key: number, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    // Both are integers computed here, never input: safe to write into the text.
    await client.query(`begin; select pg_advisory_xact_lock(${LOCK_CLASS}, ${key | 0})`);
    const out = await fn(client);
    await client.query('commit');
    return out;
  } catch (err) {
    await client.query('rollback').catch(() => (broken = true));
    throw err;
  } finally {
    client.release(broken);
  }
}

export function makeGroupAwareClaimer(
  schema: string,
  plain: Claimer,
  onWake: () => void,
  statements: NamedStatements = { named: true, unname: () => {} },
  /** How often a claim reads every group from its head, ignoring the cursors (the worker's `claimRescanMs`). */
  rescanMs = 1000,
  routingRefreshMs = ROUTING_REFRESH_MS,
): GroupAwareClaimer {
  const s = quoteSchema(schema);
  const stmts = new Map<string, { name: string; text: string }>();
  const stmt = (filtered: boolean) => {
    const key = filtered ? 'fit' : 'plain';
    let st = stmts.get(key);
    if (!st) stmts.set(key, (st = { name: `jobline_claim_groups_${key}_${schema}`, text: groupClaimSql(s, filtered) }));
    return st;
  };
  const waitStmt = { name: `jobline_claim_groups_wait_${schema}`, text: groupWaitSql(s) };
  let routing: Routing | undefined;
  let routingRead: Promise<Routing> | undefined;
  /** Queues whose last grouped claim found a group with work at its concurrency limit. */
  const blocked = new Set<string>();
  let wakeTimer: NodeJS.Timeout | undefined;
  let wakeAt = Infinity;

  const readRouting = async (pool: pg.Pool, queues: string[]): Promise<Routing> => {
    const { rows } = await pool.query(
      `select array(select name from ${s}.queues where name = any($1::text[]) and grouped_claims) as grouped,
              exists (select 1 from ${s}.job_groups where held_reason is not null) as any_held`,
      [queues],
    );
    return { grouped: new Set(rows[0].grouped), anyHeld: rows[0].any_held, at: performance.now() };
  };
  /**
   * Stale while revalidating: once known, the routing serves claims while its refresh is in flight,
   * so no claim waits for that read (a blocking refresh once a second showed in the latency tail).
   * A change therefore reaches the worker's claims within `routingRefreshMs` plus one read. A failed
   * refresh keeps the old routing; the next claim tries again.
   */
  const currentRouting = async (pool: pg.Pool, queues: string[]): Promise<Routing> => {
    if (!routingRead && (!routing || performance.now() - routing.at >= routingRefreshMs)) {
      routingRead = readRouting(pool, queues)
        .then((r) => (routing = r))
        .finally(() => (routingRead = undefined));
      routingRead.catch(() => {}); // a background refresh's failure is the next claim's retry, not an unhandled rejection
    }
    return routing ?? routingRead!;
  };

  /** Wakes the worker's loop when the first full rate window of its queues opens again. */
  const wakeAtTime = (at: Date) => {
    const ms = Math.max(1, at.getTime() - Date.now() + 2);
    const target = performance.now() + ms;
    if (target >= wakeAt) return;
    clearTimeout(wakeTimer);
    wakeAt = target;
    wakeTimer = setTimeout(() => {
      wakeAt = Infinity;
      onWake();
    }, ms);
    wakeTimer.unref();
  };

  const cursors = new GroupCursors(rescanMs);
  const values = (queue: string, limit: number, workerId: string, filter?: ClaimFilter) => {
    const c = cursors.next(queue);
    const v = [queue, limit, workerId, c.keys, c.priorities, c.runAts, c.ids];
    return filter ? [...v, filter.kinds, filter.cpu ?? null, filter.memoryMb ?? null] : v;
  };

  /** After a short claim: whether a group was at its limit, and when a full rate window opens. */
  const lookWhyShort = async (db: pg.Pool | pg.PoolClient, queue: string, limit: number) => {
    const w = (await db.query({ ...waitStmt, values: [queue, limit] })).rows[0];
    if (w.blocked) blocked.add(queue);
    if (w.next_at) wakeAtTime(w.next_at);
  };

  /** Lock, claim and commit in three round trips: behind a transaction pooler, or after the one-trip form lost its statement. */
  const claimInThreeTrips = (pool: pg.Pool, queue: string, limit: number, workerId: string, filter?: ClaimFilter) =>
    lockedTransaction(pool, queueLockKey(schema, queue), async (tx) => {
      const jobs = (await tx.query({ ...stmt(filter !== undefined), values: values(queue, limit, workerId, filter) })).rows.map(mapJob);
      cursors.claimed(queue, jobs);
      blocked.delete(queue);
      // In the claim's transaction, so the look counts the jobs just claimed under the same lock.
      if (jobs.length < limit) await lookWhyShort(tx, queue, limit);
      return jobs;
    });

  const claimQueue = async (pool: pg.Pool, queue: string, limit: number, workerId: string, filter?: ClaimFilter) => {
    if (!statements.named) return claimInThreeTrips(pool, queue, limit, workerId, filter);
    const client = await pool.connect();
    let rows: JobRow[];
    try {
      rows = (await claimInOneTrip(client, {
        // Its own name (an SQL identifier): never one that pg's protocol-level statements use.
        name: `jl_claim_groups_${filter ? 'fit' : 'plain'}_${(queueLockKey(schema, '') >>> 0).toString(16)}`,
        text: stmt(filter !== undefined).text,
        lock: [LOCK_CLASS, queueLockKey(schema, queue)],
        values: values(queue, limit, workerId, filter),
      })) as JobRow[];
    } catch (err) {
      if (lostSessionState(err)) forgetPrepared(client);
      const broken = await client.query('rollback').then(
        () => false,
        () => true,
      );
      client.release(broken);
      if (!lostSessionState(err)) throw err;
      statements.unname('a prepared grouped claim was not found on its connection (26000): a transaction-mode pooler');
      return claimInThreeTrips(pool, queue, limit, workerId, filter);
    }
    client.release();
    const jobs = rows.map(mapJob);
    cursors.claimed(queue, jobs);
    blocked.delete(queue);
    // After the commit: the look then counts these jobs as committed (a hint for waking, not a limit).
    if (jobs.length < limit) await lookWhyShort(pool, queue, limit);
    return jobs;
  };

  let turn = 0;
  const claim: Claimer = async (pool, queues, limit, workerId, limitedQueues = [], after, filter) => {
    if (limit <= 0) return [];
    const r = await currentRouting(pool, queues);
    const grouped = r.anyHeld ? queues : queues.filter((q) => r.grouped.has(q));
    if (!grouped.length) return plain(pool, queues, limit, workerId, limitedQueues, after, filter);
    const out: Job[] = [];
    // Several grouped queues: start at a different one each claim so none waits behind another.
    const start = turn++ % grouped.length;
    for (let i = 0; i < grouped.length && out.length < limit; i++) {
      out.push(...(await claimQueue(pool, grouped[(start + i) % grouped.length]!, limit - out.length, workerId, filter)));
    }
    const rest = queues.filter((q) => !grouped.includes(q));
    if (rest.length && out.length < limit) {
      const limited = limitedQueues.filter((q) => rest.includes(q));
      out.push(...(await plain(pool, rest, limit - out.length, workerId, limited, undefined, filter)));
    }
    return out;
  };
  return Object.assign(claim, {
    blockedByGroups: () => blocked.size > 0,
  });
}
