/**
 * A worker process of one system, driven by the parent over IPC.
 * Parent → child: `go` (start claiming), `report` (send counts, latency samples, RSS), `stop`.
 * Child → parent: `ready`, `progress` (every 100 ms), `report`, `stopped`.
 * The no-op handler counts jobs and, when the input carries `t` (the producer's `now()`),
 * records enqueue → handler-start latency against this process's `now()`.
 */
import { now } from './clock.mjs';
import { Reservoir } from './stats.mjs';
import { loadSystem } from '../systems/index.mjs';

const cfg = JSON.parse(process.env.BENCH_CHILD);
const system = await loadSystem(cfg.system);
const latency = new Reservoir(50_000);
let done = 0;
let rssPeak = process.memoryUsage().rss;
let cpuAtGo = process.cpuUsage();

// With `windowed`, every job's (send time, latency) pair too, for per-window percentiles
// (scenarios/long-horizon.mjs); off elsewhere, where a drain would store millions.
let timed = [];
const onJob = (input) => {
  done++;
  if (input && typeof input.t === 'number') {
    const l = now() - input.t;
    latency.add(l);
    if (cfg.windowed) timed.push(input.t, l);
  }
};

const worker = await system.worker(cfg.url, { concurrency: cfg.concurrency, onJob });
const send = (m) => process.connected && process.send(m);

setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  send({ type: 'progress', done });
}, 100).unref();

process.on('message', async (m) => {
  try {
    if (m.type === 'go') {
      cpuAtGo = process.cpuUsage();
      await worker.start();
      send({ type: 'started' });
    } else if (m.type === 'reset') {
      // Drops warm-up jobs from the counts and samples.
      done = 0;
      cpuAtGo = process.cpuUsage();
      latency.samples = [];
      latency.count = 0;
      latency.max = -Infinity;
      timed = [];
      send({ type: 'progress', done });
      send({ type: 'reset' });
    } else if (m.type === 'report') {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      send({
        type: 'report',
        done,
        latency: { samples: latency.samples, count: latency.count, max: latency.max },
        rssPeakMiB: rssPeak / 2 ** 20,
        rssMiB: process.memoryUsage().rss / 2 ** 20,
        cpuMs: (() => {
          const u = process.cpuUsage(cpuAtGo);
          return (u.user + u.system) / 1000;
        })(),
        stats: worker.stats?.(),
        timed: cfg.windowed ? timed : undefined,
      });
    } else if (m.type === 'stop') {
      await worker.stop();
      send({ type: 'stopped' });
      process.disconnect();
      setTimeout(() => process.exit(0), 50);
    }
  } catch (err) {
    send({ type: 'error', message: err?.stack ?? String(err) });
  }
});

send({ type: 'ready' });
