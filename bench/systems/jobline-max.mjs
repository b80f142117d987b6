/**
 * Jobline with 2,000 jobs in flight per worker process — the floors' 4 loops × 500 — so the
 * floor comparison is made at equal jobs in flight (see README "The systems"). Everything else is
 * `jobline.mjs`: defaults on, history rows and all outbox events written. `jobline` (200 in flight)
 * stays the system of the memory target.
 */
import { makeJobline } from './jobline.mjs';

export default makeJobline({
  name: 'jobline-max',
  label: 'Jobline (2k in flight)',
  concurrency: 2000,
});
