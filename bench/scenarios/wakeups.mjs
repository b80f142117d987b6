/**
 * Issue 13: wake-ups over NOTIFY vs core NATS (Jobline only). The same latency scenario
 * (open-loop at 200/s and 2,000/s, workers idle-waiting, enqueue → handler start) and a
 * commit-throughput scenario (one-at-a-time enqueue from many concurrent callers, each commit
 * followed by its debounced wake-up), once per transport. The transport is chosen through
 * BENCH_WAKEUPS / BENCH_NATS_URL, read by systems/jobline.mjs in this process and in the forked
 * workers; the relay is off in both rows.
 */
import { latency } from './latency.mjs';
import { enqueueSingle } from './enqueue.mjs';

const NATS = process.env.NATS_URL || 'nats://127.0.0.1:4222';

async function withTransport(transport, fn) {
  const saved = { w: process.env.BENCH_WAKEUPS, n: process.env.BENCH_NATS_URL };
  process.env.BENCH_WAKEUPS = transport;
  process.env.BENCH_NATS_URL = NATS;
  try {
    return { wakeups: transport, ...(await fn()) };
  } finally {
    if (saved.w === undefined) delete process.env.BENCH_WAKEUPS;
    else process.env.BENCH_WAKEUPS = saved.w;
    if (saved.n === undefined) delete process.env.BENCH_NATS_URL;
    else process.env.BENCH_NATS_URL = saved.n;
  }
}

const label = (t) => (t === 'nats' ? 'NATS' : 'NOTIFY');

/** Interleaved (NOTIFY, NATS) per measurement, so a shared machine's load drifts over both alike. */
export const WAKEUP_SCENARIOS = [
  ...[200, 2000].flatMap((rate) =>
    ['notify', 'nats'].map((t) => ({
      id: `wake-${t}-${rate}`,
      title: `latency at ${rate.toLocaleString('en')}/s, ${label(t)} wake-ups`,
      only: ['jobline'],
      optIn: true,
      run: (ctx) => withTransport(t, () => latency(ctx, { rate })),
    })),
  ),
  ...['notify', 'nats'].map((t) => ({
    id: `wake-${t}-commits`,
    title: `enqueue commits, ${label(t)} wake-ups (many concurrent enqueuers)`,
    only: ['jobline'],
    optIn: true,
    run: (ctx) => withTransport(t, () => enqueueSingle({ ...ctx, params: { ...ctx.params, enqueueSingle: ctx.params.wakeCommits } })),
  })),
];
