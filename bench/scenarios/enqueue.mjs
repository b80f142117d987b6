/** Scenario 1: enqueue one at a time from concurrent producers, and in bulk. */
import { now } from '../lib/clock.mjs';
import { Reservoir, summarise } from '../lib/stats.mjs';
import { cpuDelta, cpuSnapshot } from '../lib/cpu.mjs';
import { resetSystem, startProfile } from './common.mjs';

export async function enqueueSingle(ctx) {
  // At most `total` jobs or `seconds` of sending, whichever comes first (a slow system would
  // otherwise take minutes for the same count).
  const { total, producers, seconds = Infinity } = ctx.params.enqueueSingle;
  await resetSystem(ctx);
  const p = await ctx.system.producer(ctx.url);
  let closed = false;
  try {
    for (let i = 0; i < 20; i++) await p.one({ warm: i }); // connections and prepared statements
    const calls = new Reservoir(100_000);
    let next = 0;
    const prof = await startProfile(ctx);
    const cpu0 = await cpuSnapshot(ctx.url);
    const c0 = process.cpuUsage();
    const t0 = now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: producers }, async () => {
        while (next < total && now() < deadline) {
          const i = next++;
          const s = now();
          await p.one({ n: i });
          calls.add(now() - s);
        }
      }),
    );
    const ms = now() - t0;
    const jobs = next;
    const producerCpuUs = cpuUs(c0) / jobs;
    const cpu = cpuDelta(cpu0, await cpuSnapshot(ctx.url), 0, jobs);
    await p.close();
    closed = true;
    return {
      jobs,
      producers,
      seconds: ms / 1000,
      jobsPerSec: (jobs / ms) * 1000,
      callLatencyMs: summarise(calls.samples, calls.count, calls.max),
      producerCpuUsPerJob: producerCpuUs,
      cpu,
      profile: await prof.end(jobs),
    };
  } finally {
    if (!closed) await p.close();
  }
}

export async function enqueueBulk(ctx) {
  const { total, batch } = ctx.params.enqueueBulk;
  await resetSystem(ctx);
  const p = await ctx.system.producer(ctx.url);
  let closed = false;
  try {
    await p.many([{ warm: 1 }, { warm: 2 }]);
    const prof = await startProfile(ctx);
    const cpu0 = await cpuSnapshot(ctx.url);
    const c0 = process.cpuUsage();
    const t0 = now();
    for (let i = 0; i < total; i += batch) {
      const size = Math.min(batch, total - i);
      await p.many(Array.from({ length: size }, (_, k) => ({ n: i + k })));
    }
    const ms = now() - t0;
    const producerCpuUs = cpuUs(c0) / total;
    const cpu = cpuDelta(cpu0, await cpuSnapshot(ctx.url), 0, total);
    await p.close();
    closed = true;
    return {
      jobs: total,
      batch,
      seconds: ms / 1000,
      jobsPerSec: (total / ms) * 1000,
      producerCpuUsPerJob: producerCpuUs,
      cpu,
      profile: await prof.end(total),
    };
  } finally {
    if (!closed) await p.close();
  }
}

/** Microseconds of this process's CPU since `c0` (a process.cpuUsage() value). */
function cpuUs(c0) {
  const u = process.cpuUsage(c0);
  return u.user + u.system;
}
