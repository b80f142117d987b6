/** Parent side of the worker processes: spawn, wait ready, start together, collect, stop. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mergeLatency } from './stats.mjs';

const CHILD = fileURLToPath(new URL('./worker-child.mjs', import.meta.url));

/**
 * Spawns `processes` worker processes of `system` against `url`. With `cpuProfDir`, each runs
 * under `node --cpu-prof` and writes its profile there on exit.
 */
export async function spawnWorkers({
  system,
  url,
  processes = 1,
  concurrency = 200,
  cpuProfDir,
  windowed = false,
  startTimeoutMs = 60_000,
}) {
  const execArgv = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const procs = Array.from({ length: processes }, () => {
    const child = fork(CHILD, [], {
      env: { ...process.env, BENCH_CHILD: JSON.stringify({ system, url, concurrency, windowed }) },
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const p = { child, done: 0, waiters: new Map(), exited: new Promise((r) => child.on('exit', r)) };
    child.on('message', (m) => {
      if (m.type === 'progress') p.done = m.done;
      else if (m.type === 'error') console.error(`[worker ${system} ${child.pid}] ${m.message}`);
      const w = p.waiters.get(m.type);
      if (w) {
        p.waiters.delete(m.type);
        w(m);
      }
    });
    return p;
  });
  const expect = (p, type, ms = startTimeoutMs) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`worker process ${p.child.pid} (${system}) sent no "${type}" within ${ms} ms`)), ms);
      p.waiters.set(type, (m) => {
        clearTimeout(t);
        resolve(m);
      });
      p.exited.then((code) => reject(new Error(`worker process ${p.child.pid} (${system}) exited with ${code} before "${type}"`)));
    });
  await Promise.all(procs.map((p) => expect(p, 'ready')));
  return {
    pids: procs.map((p) => p.child.pid),
    /** Jobs handled so far, summed over processes (as of their last 100 ms progress message). */
    get done() {
      return procs.reduce((a, p) => a + p.done, 0);
    },
    async go() {
      const started = Promise.all(procs.map((p) => expect(p, 'started')));
      for (const p of procs) p.child.send({ type: 'go' });
      await started;
    },
    /** Zeroes the children's counts and latency samples (after a warm-up). */
    async reset() {
      await Promise.all(
        procs.map((p) => {
          const r = expect(p, 'reset', 30_000);
          p.child.send({ type: 'reset' });
          p.done = 0;
          return r;
        }),
      );
    },
    async report() {
      const parts = await Promise.all(
        procs.map((p) => {
          const r = expect(p, 'report', 30_000);
          p.child.send({ type: 'report' });
          return r;
        }),
      );
      return {
        done: parts.reduce((a, r) => a + r.done, 0),
        latency: mergeLatency(parts.map((r) => r.latency)),
        rssPeakMiB: Math.max(...parts.map((r) => r.rssPeakMiB)),
        rssPeakPerProcessMiB: parts.map((r) => Math.round(r.rssPeakMiB)),
        /** CPU the worker processes used since `go` (or the last `reset`). */
        cpuMs: parts.reduce((a, r) => a + r.cpuMs, 0),
        stats: parts.map((r) => r.stats).filter(Boolean),
        timed: parts.flatMap((r) => r.timed ?? []),
      };
    },
    async stop(ms = 30_000) {
      await Promise.all(
        procs.map(async (p) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return;
          const stopped = expect(p, 'stopped', ms).catch(() => {});
          p.child.send({ type: 'stop' });
          await stopped;
          const killer = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
          await p.exited;
          clearTimeout(killer);
        }),
      );
    },
    kill() {
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    },
  };
}
