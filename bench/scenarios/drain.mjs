/** Scenarios 2 and 5: drain pre-loaded no-op jobs with 1 or 4 worker processes, on an empty or big table. */
import { now } from '../lib/clock.mjs';
import { cpuDelta, cpuSnapshot } from '../lib/cpu.mjs';
import { withClient } from '../lib/server.mjs';
import { spawnWorkers } from '../lib/workers.mjs';
import { preload, resetSystem, settle, startProfile, waitDrained } from './common.mjs';

export async function drain(ctx, { processes, bigTable = 0 }) {
  const { total, timeoutMs } = ctx.params.drain;
  await resetSystem(ctx);
  let seedSeconds;
  if (bigTable) {
    const t = now();
    await withClient(ctx.url, (c) => ctx.system.seedBigTable(c, bigTable));
    seedSeconds = (now() - t) / 1000;
  }
  await preload(ctx, total);
  await settle(ctx);
  const workers = await spawnWorkers({
    system: ctx.system.name,
    url: ctx.url,
    processes,
    concurrency: ctx.params.concurrency,
    cpuProfDir: ctx.cpuProfDir?.(processes === 1 ? (bigTable ? 'big-table' : 'drain-1p') : 'drain-4p'),
  });
  let stopped = false;
  try {
    const prof = await startProfile(ctx);
    const c0 = await cpuSnapshot(ctx.url);
    const t0 = now();
    await workers.go();
    const t1 = await waitDrained(ctx, workers, total, timeoutMs);
    const ms = t1 - t0;
    const c1 = await cpuSnapshot(ctx.url);
    const r = await workers.report();
    await workers.stop();
    stopped = true;
    return {
      jobs: total,
      processes,
      concurrencyPerProcess: ctx.params.concurrency,
      ...(bigTable ? { finishedRows: bigTable, futureRows: bigTable, seedSeconds } : {}),
      seconds: ms / 1000,
      jobsPerSec: (total / ms) * 1000,
      rssPeakMiB: r.rssPeakMiB,
      rssPeakPerProcessMiB: r.rssPeakPerProcessMiB,
      cpu: cpuDelta(c0, c1, r.cpuMs, total),
      workerStats: r.stats.length ? r.stats : undefined,
      profile: await prof.end(total),
    };
  } finally {
    if (!stopped) await workers.stop().catch(() => workers.kill());
  }
}
