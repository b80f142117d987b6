/**
 * The claim loop's bookkeeping of wake-ups (packages/core/src/worker/claim-loop.ts), on its own:
 * a NOTIFY that arrives while a claim statement runs must lead to another claim, even when that
 * claim comes back short — the notified job may have committed after the claim's snapshot. Before
 * this was kept, the short claim's "nothing more" overwrote the wake-up, and the job waited for
 * the next poll (a second by default). The host here stands in for the worker's claim statement
 * (the loop is plain scheduling logic; the database path is covered by the worker tests).
 */
import { describe, expect, it } from 'vitest';
import { ClaimLoop, type ClaimLoopHost } from '../packages/core/dist/worker/claim-loop.js';

function host(claimsInFlight: number) {
  const calls: { want: number; resolve: (n: number) => void }[] = [];
  let notifyCall: (() => void) | undefined;
  /** Once set, claims end at once (empty), so `stop()` is not held up by claims the test left open. */
  const ending = { now: false };
  const h: ClaimLoopHost = {
    concurrency: 20, // room for two claims of 10 at once
    claimBatchSize: 10,
    claimsInFlight,
    pollIntervalMs: 60_000, // a poll never rescues the test within its timeout
    running: () => 0,
    claim: (want) =>
      new Promise<number>((resolve) => {
        if (ending.now) return resolve(0);
        calls.push({ want, resolve });
        notifyCall?.();
      }),
    releaseOrphans: async () => {},
    warn: () => {},
  };
  // Waits for the n-th claim; without it in 2 s the loop has gone to sleep until its poll.
  const nextCall = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (calls.length >= n) return resolve();
      const t = setTimeout(() => reject(new Error(`claim ${n} never came (${calls.length} made): the loop slept on a wake-up`)), 2000);
      notifyCall = () => {
        if (calls.length < n) return;
        clearTimeout(t);
        resolve();
      };
    });
  const end = async (loop: ClaimLoop) => {
    ending.now = true;
    for (const c of calls) c.resolve(0);
    await loop.stop();
  };
  return { h, calls, nextCall, end };
}

describe('claim loop wake-ups', () => {
  it.each([1, 2])('claims again when a NOTIFY arrived during a short claim (claimsInFlight %i)', async (inFlight) => {
    const { h, calls, nextCall, end } = host(inFlight);
    const loop = new ClaimLoop(h);
    loop.start();
    // A worker starts with work assumed: it opens as many claims as it may at once.
    await nextCall(inFlight);
    await new Promise((r) => setImmediate(r));
    expect(calls.length).toBe(inFlight);
    const first = calls[0];
    loop.wake(true); // the NOTIFY of a job committed while the claims run
    for (const c of calls) c.resolve(0); // their snapshots did not see it: short batches
    await nextCall(inFlight + 1); // … and still the loop claims again
    expect(calls.length).toBeGreaterThan(inFlight);
    expect(first).toBe(calls[0]);
    await end(loop);
  });

  it('sleeps after a short claim when no wake-up came meanwhile', async () => {
    const { h, calls, nextCall, end } = host(1);
    const loop = new ClaimLoop(h);
    loop.start();
    await nextCall(1);
    calls[0].resolve(0);
    // Let the loop run its turns: with nothing to claim it must not call again.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(calls.length).toBe(1);
    loop.wake(true);
    await nextCall(2);
    expect(calls.length).toBe(2);
    await end(loop);
  });
});
