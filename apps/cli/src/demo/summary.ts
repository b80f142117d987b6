import type { Jobline } from '@jobline/core';

export interface QueueSummary {
  queue: string;
  jobs: number;
  done: number;
  failed: number;
  /** Jobs that needed more than one attempt. */
  retried: number;
  /** From the first enqueue to the last completion in the queue. */
  spanMs: number;
  /** Enqueue → first attempt started. */
  p50WaitMs: number;
  p99WaitMs: number;
  p50RunMs: number;
}

/** Per-queue outcome of the demo (jl.inspect.outcomes()), in the demo's table and JSON shape. */
export async function summarise(jl: Jobline): Promise<QueueSummary[]> {
  return (await jl.inspect.outcomes()).map(({ completed, ...o }) => ({ ...o, done: completed }));
}
