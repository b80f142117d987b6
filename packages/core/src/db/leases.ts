import type { Queryable } from './pool.js';

/**
 * The lease table's two statements. The lead/follow loop built on them (renew, lose, step down,
 * stop) is written once, in node/leader-service.ts.
 *
 * Leader election by lease row: whoever holds an unexpired lease for `name` is the leader.
 * Acquiring and renewing are the same upsert, which succeeds only for the current holder or
 * when the lease has expired, so at most one holder exists at any time (by the database clock).
 */
export async function tryAcquireLease(db: Queryable, s: string, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const { rows } = await db.query(
    `insert into ${s}.leases (name, holder, expires_at)
     values ($1, $2, now() + $3 * interval '1 millisecond')
     on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
      where leases.holder = excluded.holder or leases.expires_at < now()
     returning holder`,
    [name, holder, ttlMs],
  );
  return rows.length === 1;
}

/** Gives the lease up at once (graceful shutdown) so another process takes over without waiting. */
export async function releaseLease(db: Queryable, s: string, name: string, holder: string): Promise<void> {
  await db.query(`delete from ${s}.leases where name = $1 and holder = $2`, [name, holder]);
}
