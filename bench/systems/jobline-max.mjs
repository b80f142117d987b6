/**
 * Jobline with 2,000 jobs in flight per worker process — the raw floor's 4 loops × 500 — so the
 * floor comparison is made at equal jobs in flight (see README "The systems"). Everything else is
 * `jobline.mjs`: defaults on, history rows and all outbox events written. `jobline` (200 in flight)
 * stays the system of the memory target and of the same-in-flight comparison with pg-boss.
 */
import jobline from './jobline.mjs';

const CONCURRENCY = 2000;

export default {
  ...jobline,
  name: 'jobline-max',
  label: 'Jobline (2k in flight)',
  settings: jobline.settings.replace('worker concurrency 200 per process', `worker concurrency ${CONCURRENCY} per process`),
  inFlight: CONCURRENCY,
  // Enqueue, latency and the DAG are the same code as `jobline` (in-flight limits none of them).
  scenarios: ['drain-1p', 'drain-4p', 'steady', 'long-tx', 'big-table'],
  worker: (url, opts) => jobline.worker(url, { ...opts, concurrency: CONCURRENCY }),
};
