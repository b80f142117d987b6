import type { Api } from './workload.js';
import { bar } from '../output.js';

const FINISHED = ['completed', 'failed', 'cancelled'];

export interface Progress {
  finished: number;
  line: string;
}

/** One progress line from GET /v1/queues: per queue finished/total, plus what is running and retrying (of the workload; the schedule's queue is only shown). */
export async function readProgress(api: Api, total: number, scheduledQueue?: string): Promise<Progress> {
  const { body } = await api('GET', '/v1/queues');
  let finished = 0;
  let running = 0;
  let retrying = 0;
  let failed = 0;
  const parts: string[] = [];
  for (const q of body.queues as { name: string; counts: Record<string, number> }[]) {
    const c = q.counts;
    const all = Object.values(c).reduce((a, b) => a + b, 0);
    const done = FINISHED.reduce((a, st) => a + (c[st] ?? 0), 0);
    // The schedule's queue keeps growing (runs are materialised ahead): shown, not counted.
    if (q.name !== scheduledQueue) finished += done;
    running += c.running ?? 0;
    retrying += c.retryable ?? 0;
    failed += c.failed ?? 0;
    parts.push(`${q.name} ${done}/${all}`);
  }
  const line = `${bar(finished, total, 20)} ${finished}/${total} finished · ${running} running · ${retrying} waiting to retry · ${failed} failed   (${parts.join(', ')})`;
  return { finished, line };
}
