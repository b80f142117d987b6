/**
 * Scenarios 4 and 6: producers and workers together for a fixed time at the highest rate the
 * system sustains. Producers (in this process) enqueue batches through the bulk API as fast as
 * they can while the backlog (enqueued − handled) stays under a cap; so the measured rate is
 * what the system keeps up with end to end, not a queue filling up. With `longTx`, a
 * REPEATABLE READ transaction holds its snapshot open for the whole run (vacuum can't remove
 * anything deleted or updated meanwhile) and the dead tuples left at the end are reported.
 */
import pg from 'pg';
import { now, sleep } from '../lib/clock.mjs';
import { summarise } from '../lib/stats.mjs';
import { cpuDelta, cpuSnapshot } from '../lib/cpu.mjs';
import { spawnWorkers } from '../lib/workers.mjs';
import { resetSystem, startProfile, tupleStats } from './common.mjs';

export async function steady(ctx, { longTx = false } = {}) {
  const { seconds, producers, batch } = ctx.params.steady;
  // The backlog must be able to hold what the workers take in one go, or the cap, not the system, sets the rate.
  const backlogCap = Math.max(ctx.params.steady.backlogCap, 2 * (ctx.system.inFlight ?? ctx.params.concurrency));
  await resetSystem(ctx);
  const workers = await spawnWorkers({
    system: ctx.system.name,
    url: ctx.url,
    processes: 1,
    concurrency: ctx.params.concurrency,
    cpuProfDir: ctx.cpuProfDir?.(longTx ? 'long-tx' : 'steady'),
  });
  const p = await ctx.system.producer(ctx.url);
  let holder;
  try {
    if (longTx) {
      holder = new pg.Client({ connectionString: ctx.url, application_name: 'bench-long-tx' });
      await holder.connect();
      await holder.query('begin isolation level repeatable read');
      await holder.query('select count(*) from pg_class'); // takes the snapshot, holding back the xmin horizon
    }
    await workers.go();
    const prof = await startProfile(ctx);
    const c0 = await cpuSnapshot(ctx.url);
    let enqueued = 0;
    let stop = false;
    const t0 = now();
    const loops = Array.from({ length: producers }, async () => {
      while (!stop) {
        if (enqueued - workers.done > backlogCap) {
          await sleep(2);
          continue;
        }
        enqueued += batch;
        const t = now();
        await p.many(Array.from({ length: batch }, () => ({ t })));
      }
    });
    const samples = [];
    while (now() - t0 < seconds * 1000) {
      await sleep(1000);
      samples.push({ s: Math.round((now() - t0) / 1000), done: workers.done });
    }
    const doneAtEnd = workers.done;
    const ms = now() - t0;
    const c1 = await cpuSnapshot(ctx.url);
    stop = true;
    await Promise.all(loops);
    const r = await workers.report();
    const perSecond = samples.map((x, i) => x.done - (i ? samples[i - 1].done : 0));
    const backlogAtEnd = enqueued - doneAtEnd;
    await workers.stop();
    await p.close();
    const profile = await prof.end(r.done);
    const tuples = await tupleStats(ctx);
    let holderXmin;
    if (holder) {
      const { rows } = await holder.query("select backend_xmin::text as x from pg_stat_activity where application_name = 'bench-long-tx'");
      holderXmin = rows[0]?.x;
    }
    return {
      seconds: ms / 1000,
      producers,
      batch,
      backlogCap,
      jobsPerSec: (doneAtEnd / ms) * 1000,
      enqueued,
      backlogAtEnd,
      perSecond: summarise(perSecond),
      latencyMs: r.latency,
      rssPeakMiB: r.rssPeakMiB,
      cpu: cpuDelta(c0, c1, r.cpuMs, doneAtEnd),
      ...tuples,
      profile,
      ...(longTx ? { longTransactionXmin: holderXmin } : {}),
    };
  } finally {
    if (holder)
      await holder
        .query('rollback')
        .then(() => holder.end())
        .catch(() => {});
    await p.close().catch(() => {});
    await workers.stop().catch(() => workers.kill());
  }
}
