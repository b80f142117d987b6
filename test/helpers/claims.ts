import type { Worker } from '@jobline/core';

/**
 * Watches a worker's claim statements (a test hook on its runtime's private claimer): the signal that it has
 * polled and is idle, so that a test can tell a wake-up by NOTIFY from a lucky first poll.
 */
export function watchClaims(w: Worker): { claimed: number[]; inFlight: () => number } {
  const claimed: number[] = [];
  let inFlight = 0;
  const runtime = (w as any).worker; // the node's worker runtime (worker/worker.ts)
  const claim = runtime.claim;
  // Object.assign keeps the claimer's own members (the group-aware claimer's blockedByGroups()).
  runtime.claim = Object.assign(async (...args: unknown[]) => {
    inFlight++;
    try {
      const jobs = await claim(...args);
      claimed.push(jobs.length);
      return jobs;
    } finally {
      inFlight--;
    }
  }, claim);
  return { claimed, inFlight: () => inFlight };
}
