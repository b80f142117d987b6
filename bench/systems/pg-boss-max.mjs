/** pg-boss with 8,000 jobs in flight per process (batchSize 2,000 × 4 loops): see pg-boss.mjs. */
import { makePgBoss } from './pg-boss.mjs';

export default makePgBoss({
  name: 'pg-boss-max',
  label: 'pg-boss 12.38 (8k in flight)',
  batchSize: 2000,
  loops: 4,
  // Enqueue and latency are the same code as `pg-boss` (polling bounds latency, not batch size).
  scenarios: ['drain-1p', 'drain-4p', 'steady', 'long-tx', 'big-table'],
});
