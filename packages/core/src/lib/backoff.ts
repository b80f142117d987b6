/**
 * The one exponential backoff formula (issue 11: there were ten hand-written copies). Pure and
 * deterministic given `random`, so callers' numbers are testable (test/backoff.test.ts).
 *
 *   delay(step) = min(maxMs, baseMs · factor^step), then jittered, in whole milliseconds
 *
 * `step` counts from 0 (the first wait is `baseMs`). Jitter, both optional:
 * - `jitter` j ∈ [0, 1]: take a random share of up to j off: delay · (1 − j·random()).
 *   j = 1 is "full jitter" (uniform in (0, delay]), j = 0.5 "equal jitter" (in (delay/2, delay]);
 *   the spread keeps retry storms from synchronising.
 * - `spread` s ∈ [0, 1]: symmetric around the delay: delay · (1 + s·(2·random() − 1)).
 */
export interface ExponentialBackoff {
  /** Wait before step 0, in ms. */
  baseMs: number;
  /** Upper bound of the un-jittered delay, in ms. @default Infinity */
  maxMs?: number;
  /** Growth per step. @default 2 */
  factor?: number;
  /** Largest share of the delay removed at random (1 = full jitter, 0.5 = equal jitter). @default 0 */
  jitter?: number;
  /** Largest share added or removed at random, symmetric around the delay. @default 0 */
  spread?: number;
}

export function backoffDelay(step: number, o: ExponentialBackoff, random: () => number = Math.random): number {
  const { baseMs, maxMs = Infinity, factor = 2, jitter = 0, spread = 0 } = o;
  // baseMs 0 stays 0 for any step (0 · 2^1100 would be NaN once the power overflows).
  let d = baseMs <= 0 ? 0 : Math.min(maxMs, baseMs * factor ** Math.max(0, step));
  if (jitter > 0) d *= 1 - jitter * random();
  if (spread > 0) d *= 1 + spread * (2 * random() - 1);
  return Math.round(d);
}
