/**
 * The one backoff formula (packages/core/src/lib/backoff.ts) and the numbers each former copy
 * had, now produced by it: the sequences below are what the hand-written formulas gave.
 */
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../packages/core/dist/lib/backoff.js';
import { backoffDelayMs, resolveBackoff } from '@jobline/core/inspect';

const steps = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
const fixed = (v: number) => () => v;

describe('backoffDelay', () => {
  it('grows by factor from baseMs at step 0 and stops at maxMs', () => {
    expect(steps(8, (i) => backoffDelay(i, { baseMs: 100, maxMs: 5000 }))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(steps(4, (i) => backoffDelay(i, { baseMs: 10, factor: 3 }))).toEqual([10, 30, 90, 270]);
    // no cap: keeps doubling; huge steps reach the cap instead of overflowing to NaN
    expect(backoffDelay(20, { baseMs: 1 })).toBe(2 ** 20);
    expect(backoffDelay(5000, { baseMs: 1, maxMs: 60_000 })).toBe(60_000);
    expect(backoffDelay(5000, { baseMs: 0, maxMs: 60_000 })).toBe(0);
    expect(backoffDelay(-3, { baseMs: 100 })).toBe(100);
  });

  it('full jitter spans (0, delay], equal jitter (delay/2, delay], deterministic for a given random', () => {
    const o = { baseMs: 1000, maxMs: 8000 };
    expect(backoffDelay(2, { ...o, jitter: 1 }, fixed(0))).toBe(4000);
    expect(backoffDelay(2, { ...o, jitter: 1 }, fixed(0.75))).toBe(1000);
    expect(backoffDelay(2, { ...o, jitter: 1 }, fixed(0.999999))).toBe(0);
    expect(backoffDelay(2, { ...o, jitter: 0.5 }, fixed(0.999999))).toBe(2000);
    expect(backoffDelay(2, { ...o, jitter: 0.5 }, fixed(0.5))).toBe(3000);
    // jitter after the cap: the cap bounds the un-jittered delay
    expect(backoffDelay(10, { ...o, jitter: 0.5 }, fixed(0.5))).toBe(6000);
  });

  it('spread is symmetric around the delay', () => {
    const o = { baseMs: 100, maxMs: 5000, spread: 0.2 };
    expect(backoffDelay(3, o, fixed(0))).toBe(640);
    expect(backoffDelay(3, o, fixed(0.5))).toBe(800);
    expect(backoffDelay(3, o, fixed(0.999999))).toBe(960);
  });

  it('stays within its bounds for many random draws', () => {
    for (let i = 0; i < 2000; i++) {
      const step = i % 12;
      const full = backoffDelay(step, { baseMs: 50, maxMs: 5000, jitter: 1 });
      const top = Math.min(5000, 50 * 2 ** step);
      expect(full).toBeGreaterThanOrEqual(0);
      expect(full).toBeLessThanOrEqual(top);
      const spread = backoffDelay(step, { baseMs: 100, maxMs: 5000, spread: 0.2 });
      const mid = Math.min(5000, 100 * 2 ** step);
      expect(spread).toBeGreaterThanOrEqual(Math.round(mid * 0.8));
      expect(spread).toBeLessThanOrEqual(Math.round(mid * 1.2));
    }
  });
});

describe('the callers keep their numbers', () => {
  it('job retries (queue/retry.ts): attempt n waits base·2^(n−1) capped, jitter taken off', () => {
    const b = resolveBackoff();
    expect(b).toEqual({ baseMs: 1000, maxMs: 3_600_000, jitter: 0.5 });
    // the former formula, verbatim
    const before = (attempt: number, r: number) =>
      Math.round(Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, attempt - 1)) * (1 - b.jitter * r));
    for (const attempt of [0, 1, 2, 3, 5, 12, 13, 30]) {
      for (const r of [0, 0.3, 0.999]) expect(backoffDelayMs(attempt, b, fixed(r)), `attempt ${attempt}, r ${r}`).toBe(before(attempt, r));
    }
  });

  it('the un-jittered loops: completer, claim failures, DAG cancel passes, listener and wake-up reconnects, webhooks, CLI polls', () => {
    const seq = (n: number, o: Parameters<typeof backoffDelay>[1], from = 0) => steps(n, (i) => backoffDelay(i + from, o));
    // completer.ts: Math.min(5000, 50 * 2 ** Math.min(attempt, 7)), attempt from 1
    expect(seq(9, { baseMs: 50, maxMs: 5000 }, 1)).toEqual(steps(9, (i) => Math.min(5000, 50 * 2 ** Math.min(i + 1, 7))));
    // worker.ts claim failures and relay (before its ±20%): Math.min(5000, 100 * 2 ** Math.min(n, 6))
    expect(seq(9, { baseMs: 100, maxMs: 5000 })).toEqual(steps(9, (i) => Math.min(5000, 100 * 2 ** Math.min(i, 6))));
    // dag/cancel.ts: Math.min(200, 10 * 2 ** Math.min(pass, 5))
    expect(seq(8, { baseMs: 10, maxMs: 200 })).toEqual(steps(8, (i) => Math.min(200, 10 * 2 ** Math.min(i, 5))));
    // listener.ts and wakeups.ts: 250, doubled after each failure, at most 5000
    expect(seq(8, { baseMs: 250, maxMs: 5000 })).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
    // schedule/webhook.ts: retryDelayMs * 2 ** (attempt - 2) from attempt 2
    expect(seq(4, { baseMs: 300 })).toEqual([300, 600, 1200, 2400]);
    // CLI polls (enqueue --wait, dag --wait): Math.min(1000, 50 * 2 ** Math.min(i, 5)), through backoffDelayMs
    expect(steps(8, (i) => backoffDelayMs(i + 1, { baseMs: 50, maxMs: 1000, jitter: 0 }))).toEqual(
      steps(8, (i) => Math.min(1000, 50 * 2 ** Math.min(i, 5))),
    );
  });

  it('the relay: 100 ms doubling to 5 s, times 0.8 + 0.4·random', () => {
    for (const f of [0, 1, 4, 6, 9]) {
      for (const r of [0, 0.25, 0.5, 0.99]) {
        const before = Math.min(5000, 100 * 2 ** Math.min(f, 6)) * (0.8 + r * 0.4);
        expect(backoffDelay(f, { baseMs: 100, maxMs: 5000, spread: 0.2 }, fixed(r))).toBe(Math.round(before));
      }
    }
  });
});
