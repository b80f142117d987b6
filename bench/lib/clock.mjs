/**
 * One clock for every process of a run: milliseconds with sub-millisecond precision from
 * CLOCK_MONOTONIC (`process.hrtime`), which on Linux is one system-wide clock (time since boot),
 * so a producer's timestamp and a worker's in another process on the same machine can be
 * subtracted. The earlier `performance.timeOrigin + performance.now()` anchored each process to
 * the wall clock when it started, and a wall-clock adjustment between two processes' starts shows
 * up as an offset: a run on 2026-12-01 reported a p50 of −13 ms (worker started after the
 * producer on a loaded VM). Not a date: only differences between `now()` values mean anything.
 */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds since `t0` (a `now()` value). */
export const since = (t0) => now() - t0;
