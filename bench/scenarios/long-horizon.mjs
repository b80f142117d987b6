/**
 * Long horizon (issue 14): one worker process, one-at-a-time enqueue at 400/s open loop through
 * three phases — clean, then another connection idle in a transaction that holds a snapshot and an
 * xid (vacuum can clean nothing deleted or updated meanwhile, the way a forgotten `BEGIN` in an
 * application does), then recovery after it rolls back. Reports enqueue → handler-start p50/p99
 * per window (5 s in full runs) and, per phase, the worst window's p99: the number the target
 * compares.
 */
import pg from 'pg';
import { now, sleep } from '../lib/clock.mjs';
import { percentile } from '../lib/stats.mjs';
import { spawnWorkers } from '../lib/workers.mjs';
import { resetSystem, startProfile, waitDrained } from './common.mjs';

const MAX_IN_FLIGHT = 2000;

/** Per-window and per-phase percentiles of `(sendTime, latency)` pairs. Exported for the harness test. */
export function windowStats(timed, t0, windowMs, phases) {
  const windows = new Map();
  for (let i = 0; i < timed.length; i += 2) {
    const w = Math.floor((timed[i] - t0) / windowMs);
    if (w < 0) continue;
    if (!windows.has(w)) windows.set(w, []);
    windows.get(w).push(timed[i + 1]);
  }
  const r2 = (v) => (v === undefined ? undefined : Math.round(v * 100) / 100);
  const rows = [...windows.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([w, l]) => {
      const s = Float64Array.from(l).sort();
      const startS = (w * windowMs) / 1000;
      const phase = phases.find((p) => startS >= p.fromS && startS < p.toS)?.phase ?? phases.at(-1).phase;
      return { startS, phase, count: s.length, p50: r2(percentile(s, 50)), p99: r2(percentile(s, 99)), max: r2(s[s.length - 1]) };
    });
  return {
    windows: rows,
    phases: phases.map((p) => {
      const mine = rows.filter((w) => w.phase === p.phase);
      return {
        phase: p.phase,
        seconds: p.toS - p.fromS,
        windows: mine.length,
        jobs: mine.reduce((n, w) => n + w.count, 0),
        maxWindowP99: mine.length ? Math.max(...mine.map((w) => w.p99)) : undefined,
        medianWindowP50: mine.length ? r2(percentile(Float64Array.from(mine.map((w) => w.p50)).sort(), 50)) : undefined,
      };
    }),
  };
}

export async function longHorizon(ctx) {
  const { rate, cleanS, idleTxS, recoveryS, windowS, timeoutMs } = ctx.params.longHorizon;
  await resetSystem(ctx);
  const workers = await spawnWorkers({
    system: ctx.system.name,
    url: ctx.url,
    processes: 1,
    concurrency: ctx.params.concurrency,
    windowed: true,
  });
  const p = await ctx.system.producer(ctx.url);
  const holder = new pg.Client({ connectionString: ctx.url, application_name: 'bench-idle-in-tx' });
  let holding = false;
  try {
    await holder.connect();
    await workers.go();
    for (let i = 0; i < 20; i++) await p.one({ warm: i });
    await waitDrained(ctx, workers, 20, 30_000);
    await workers.reset();
    const prof = await startProfile(ctx);
    const phases = [
      { phase: 'clean', fromS: 0, toS: cleanS },
      { phase: 'idle-in-transaction', fromS: cleanS, toS: cleanS + idleTxS },
      { phase: 'recovery', fromS: cleanS + idleTxS, toS: cleanS + idleTxS + recoveryS },
    ];
    const totalS = phases.at(-1).toS;
    const total = Math.round(rate * totalS);
    let sent = 0;
    let dropped = 0;
    let inFlight = 0;
    let errors = 0;
    const t0 = now();
    while (sent + dropped < total) {
      const elapsed = (now() - t0) / 1000;
      if (!holding && elapsed >= cleanS && elapsed < cleanS + idleTxS) {
        holding = true;
        holder.query('begin isolation level repeatable read').then(() => holder.query('select txid_current(), count(*) from pg_class'));
      } else if (holding && elapsed >= cleanS + idleTxS) {
        holding = false;
        holder.query('rollback');
      }
      const due = Math.min(total, Math.floor(elapsed * rate) + 1);
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
    if (holding) await holder.query('rollback');
    holding = false;
    while (inFlight > 0) await sleep(5);
    await waitDrained(ctx, workers, sent - errors, timeoutMs);
    const r = await workers.report();
    await p.close();
    await workers.stop();
    const ws = windowStats(r.timed, t0, windowS * 1000, phases);
    return {
      targetRate: rate,
      achievedRate: sent / totalS,
      jobs: sent,
      dropped,
      errors,
      windowSeconds: windowS,
      latencyMs: r.latency,
      phases: ws.phases,
      windows: ws.windows,
      profile: await prof.end(sent),
    };
  } finally {
    if (holding) await holder.query('rollback').catch(() => {});
    await holder.end().catch(() => {});
    await p.close().catch(() => {});
    await workers.stop().catch(() => workers.kill());
  }
}
