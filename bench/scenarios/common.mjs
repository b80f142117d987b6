/** Helpers the scenarios share: resetting a system's tables, preloading, waiting for a drain. */
import { now, sleep } from '../lib/clock.mjs';
import { withClient } from '../lib/server.mjs';
import { profileStart } from '../lib/pg-profile.mjs';

/** Starts the PostgreSQL-side profile of a scenario's measured phase (lib/pg-profile.mjs). */
export const startProfile = (ctx) => profileStart(ctx.url, { sharedServer: ctx.sharedServer });

/** Empties the system's tables, then checkpoints so the next phase doesn't pay for this one's writes. */
export async function resetSystem(ctx) {
  await withClient(ctx.url, async (c) => {
    await ctx.system.reset(c);
    await c.query('checkpoint');
  });
}

/** VACUUM ANALYZE of the system's tables (what autovacuum would have done by now) and a checkpoint. */
export async function settle(ctx) {
  await withClient(ctx.url, async (c) => {
    for (const t of ctx.system.tables) await c.query(`vacuum (analyze) ${t}`);
    await c.query('checkpoint');
  });
}

/** Enqueues `n` no-op jobs through the system's bulk API in chunks (untimed setup). */
export async function preload(ctx, n, chunk = 5000) {
  const p = await ctx.system.producer(ctx.url);
  try {
    for (let i = 0; i < n; i += chunk) {
      const size = Math.min(chunk, n - i);
      await p.many(Array.from({ length: size }, (_, k) => ({ n: i + k })));
    }
  } finally {
    await p.close();
  }
}

/**
 * Waits until the system's tables show no due unfinished job (every completion committed).
 * Polls the database only once the workers report having run `expected` handlers, so the
 * count query doesn't compete with the drain. Returns the time it finished, or throws on timeout.
 */
export async function waitDrained(ctx, workers, expected, timeoutMs) {
  const deadline = now() + timeoutMs;
  while (workers.done < expected) {
    if (now() > deadline) throw new Error(`timed out: ${workers.done} of ${expected} jobs ran within ${timeoutMs} ms`);
    await sleep(20);
  }
  return withClient(ctx.url, async (c) => {
    for (;;) {
      const left = await ctx.system.remaining(c);
      if (left === 0) return now();
      if (now() > deadline) throw new Error(`timed out: ${left} jobs still unfinished after ${timeoutMs} ms`);
      await sleep(10);
    }
  });
}

/** Sum of n_dead_tup / n_live_tup over the system's tables and their partitions (after workers closed, so stats are flushed). */
export async function tupleStats(ctx) {
  return withClient(ctx.url, async (c) => {
    await sleep(1100); // backends flush table stats at most once a second
    const { rows } = await c.query(
      `select coalesce(sum(n_dead_tup), 0)::bigint as dead, coalesce(sum(n_live_tup), 0)::bigint as live
         from pg_stat_user_tables
        where relid in (select c.oid from pg_class c where c.oid = any($1::regclass[])
                        union all select inhrelid from pg_inherits where inhparent = any($1::regclass[]))`,
      [ctx.system.tables],
    );
    return { deadTuples: Number(rows[0].dead), liveTuples: Number(rows[0].live) };
  });
}
