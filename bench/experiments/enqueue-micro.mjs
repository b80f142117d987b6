// Node CPU of enqueue's pure parts (no database): validation + serialisation, row mapping.
//   node bench/experiments/enqueue-micro.mjs
import { prepareJobs } from '../../packages/core/dist/queue/enqueue.js';
import { mapJob } from '../../packages/core/dist/model/job.js';
import pg from 'pg';
const specs = Array.from({ length: 500 }, (_, i) => ({ queue: 'q', name: 'noop', input: { n: i, s: 'some text' } }));
const parseTs = pg.types.getTypeParser(1184);
const raw = () => ({
  id: 1,
  queue: 'q',
  name: 'noop',
  state: 'available',
  priority: 0,
  run_at: parseTs('2026-12-01 23:00:00.123456+00'),
  attempt: 0,
  max_attempts: 5,
  timeout_ms: 300000,
  input: { n: 1 },
  output: null,
  error: null,
  progress: null,
  idempotency_key: null,
  definition: null,
  dag_run_id: null,
  dag_node_key: null,
  worker_id: null,
  traceparent: null,
  group_key: null,
  created_at: parseTs('2026-12-01 23:00:00.123456+00'),
  claimed_at: null,
  started_at: null,
  heartbeat_at: null,
  completed_at: null,
  updated_at: parseTs('2026-12-01 23:00:00.123456+00'),
});
const t = (label, n, f) => {
  for (let i = 0; i < 20; i++) f();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const c = process.cpuUsage(c0);
  console.log(label.padEnd(30), ((c.user + c.system) / n / 500).toFixed(2), 'µs/job');
};
t('prepareJobs (zod+json) ×500', 200, () => prepareJobs(specs, 1 << 20, false));
t('3 timestamp parses + mapJob', 200, () => {
  for (let i = 0; i < 500; i++) mapJob(raw());
});
t('JSON.stringify input', 200, () => {
  for (const s of specs) JSON.stringify(s.input);
});
const { parseTimestamptz } = await import('../../packages/core/dist/db/timestamptz.js');
const samples = Array.from({ length: 500 }, (_, i) => `2026-12-01 23:${String(i % 60).padStart(2, '0')}:14.${String(100000 + i * 7)}+00`);
t('postgres-date ×1 timestamp', 400, () => {
  for (const s of samples) parseTs(s);
});
t('parseTimestamptz ×1 timestamp', 400, () => {
  for (const s of samples) parseTimestamptz(s);
});
