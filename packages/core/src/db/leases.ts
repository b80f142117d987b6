import type { Queryable } from './pool.js';

/**
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

/**
 * Keeps trying to hold a lease and tells the owner when leadership starts or ends. Renewal runs
 * at a third of the TTL, so two missed renewals still leave the lease held.
 */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Queryable,
    private readonly schema: string,
    readonly name: string,
    private readonly holder: string,
    private readonly ttlMs: number,
    private readonly onChange: (leader: boolean) => void,
  ) {}

  get isLeader(): boolean {
    return this.held;
  }

  start(): void {
    this.inFlight = this.tick();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let now = false;
    try {
      now = await tryAcquireLease(this.db, this.schema, this.name, this.holder, this.ttlMs);
    } catch {
      now = false; // database unreachable: assume we lost it; a renewal will retake it
    }
    if (now !== this.held) {
      this.held = now;
      // Taken while stopping: recorded so stop() gives it back, but not announced.
      if (!this.stopped) this.onChange(now);
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => (this.inFlight = this.tick()), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A renewal in flight could re-take the lease after we release it: let it land first.
    await this.inFlight;
    if (this.held) {
      this.held = false;
      this.onChange(false);
      await releaseLease(this.db, this.schema, this.name, this.holder).catch(() => {});
    }
  }
}
