/** Scenario 1: enqueue one at a time from concurrent producers, and in bulk. */
import { now } from '../lib/clock.mjs';
import { Reservoir, summarise } from '../lib/stats.mjs';
import { resetSystem } from './common.mjs';

export async function enqueueSingle(ctx) {
  const { total, producers } = ctx.params.enqueueSingle;
  await resetSystem(ctx);
  const p = await ctx.system.producer(ctx.url);
  try {
    for (let i = 0; i < 20; i++) await p.one({ warm: i }); // connections and prepared statements
    const calls = new Reservoir(100_000);
    let next = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: producers }, async () => {
        while (next < total) {
          const i = next++;
          const s = now();
          await p.one({ n: i });
          calls.add(now() - s);
        }
      }),
    );
    const ms = now() - t0;
    return { jobs: total, producers, seconds: ms / 1000, jobsPerSec: (total / ms) * 1000, callLatencyMs: summarise(calls.samples, calls.count, calls.max) };
  } finally {
    await p.close();
  }
}

export async function enqueueBulk(ctx) {
  const { total, batch } = ctx.params.enqueueBulk;
  await resetSystem(ctx);
  const p = await ctx.system.producer(ctx.url);
  try {
    await p.many([{ warm: 1 }, { warm: 2 }]);
    const t0 = now();
    for (let i = 0; i < total; i += batch) {
      const size = Math.min(batch, total - i);
      await p.many(Array.from({ length: size }, (_, k) => ({ n: i + k })));
    }
    const ms = now() - t0;
    return { jobs: total, batch, seconds: ms / 1000, jobsPerSec: (total / ms) * 1000 };
  } finally {
    await p.close();
  }
}
