/**
 * One clock for every process of a run: wall-clock milliseconds with sub-millisecond precision.
 * `performance.timeOrigin` is read from the system clock when the process starts and
 * `performance.now()` is monotonic since then, so a producer's timestamp and a worker's timestamp
 * in another process on the same machine can be subtracted (the brief's "same machine clock").
 */
export const now = () => performance.timeOrigin + performance.now();

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds since `t0` (a `now()` value). */
export const since = (t0) => now() - t0;
