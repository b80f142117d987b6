/**
 * Scenario 3: open-loop enqueue at a fixed rate with workers idle-waiting; enqueue → handler-start
 * latency. Jobs are sent on schedule whether or not earlier sends finished (open loop: a slow
 * system cannot slow the arrival rate down and hide its queueing). Each job carries the
 * producer's `now()` taken just before the enqueue call; the handler subtracts it from its own.
 */
import { now, sleep } from '../lib/clock.mjs';
import { spawnWorkers } from '../lib/workers.mjs';
import { resetSystem, startProfile, waitDrained } from './common.mjs';

/** In-flight enqueue calls beyond which the producer counts sends as dropped (it can't keep the rate). */
const MAX_IN_FLIGHT = 2000;

export async function latency(ctx, { rate }) {
  const { seconds, timeoutMs } = ctx.params.latency;
  await resetSystem(ctx);
  const workers = await spawnWorkers({
    system: ctx.system.name,
    url: ctx.url,
    processes: 1,
    concurrency: ctx.params.concurrency,
    cpuProfDir: ctx.cpuProfDir?.(`latency-${rate}`),
  });
  const p = await ctx.system.producer(ctx.url);
  try {
    await workers.go();
    // Warm-up: connections, prepared statements, JIT of the handler path.
    for (let i = 0; i < 20; i++) await p.one({ t: now() });
    await waitDrained(ctx, workers, 20, 30_000);
    await workers.reset();
    await sleep(1000); // workers idle-waiting, as in the brief

    const prof = await startProfile(ctx);
    const total = Math.round(rate * seconds);
    let sent = 0;
    let dropped = 0;
    let inFlight = 0;
    let errors = 0;
    const t0 = now();
    while (sent + dropped < total) {
      const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate) + 1);
      while (sent + dropped < due) {
        if (inFlight >= MAX_IN_FLIGHT) {
          dropped++;
          continue;
        }
        inFlight++;
        sent++;
        p.one({ t: now() }).then(
          () => inFlight--,
          () => (inFlight--, errors++),
        );
      }
      await sleep(1);
    }
    const sendSeconds = (now() - t0) / 1000;
    while (inFlight > 0) await sleep(5);
    await waitDrained(ctx, workers, sent - errors, timeoutMs);
    const r = await workers.report();
    await p.close();
    await workers.stop();
    return {
      targetRate: rate,
      achievedRate: sent / sendSeconds,
      jobs: sent,
      dropped,
      errors,
      latencyMs: r.latency,
      workerCpuUsPerJob: (r.cpuMs * 1000) / Math.max(1, r.done),
      rssPeakMiB: r.rssPeakMiB,
      profile: await prof.end(sent),
    };
  } finally {
    await p.close().catch(() => {});
    await workers.stop().catch(() => workers.kill());
  }
}
