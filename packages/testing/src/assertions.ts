/**
 * Enqueue assertions for application tests (as River's rivertest): framework-neutral, they
 * throw node:assert's AssertionError, which vitest, jest and node:test all report with the
 * message. Inputs match as a subset: the expected object's keys must be there and equal;
 * arrays must match element by element.
 */
import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import type { Job, JobState, Jobline } from '@jobline/core';
import { internals } from '@jobline/core/internal';

export interface JobMatch {
  queue?: string;
  name?: string;
  /** Subset of the input. */
  input?: unknown;
  /** @default ['available', 'scheduled'] — waiting to run */
  state?: JobState | JobState[] | 'any';
  priority?: number;
}

/** `actual` contains `expected`: objects by their keys, arrays element by element, the rest equal. */
export function matches(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected))
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matches(actual[i], e));
  if (expected && typeof expected === 'object' && !(expected instanceof Date)) {
    if (!actual || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([k, v]) => matches((actual as Record<string, unknown>)[k], v));
  }
  return isDeepStrictEqual(actual, expected);
}

/** Jobs matching `m`, oldest first (at most 1000 are examined). */
export async function enqueued(jl: Jobline, m: JobMatch = {}): Promise<Job[]> {
  const states = m.state === 'any' ? null : Array.isArray(m.state) ? m.state : [m.state ?? 'available', ...(m.state ? [] : ['scheduled'])];
  const { rows } = await internals(jl).pool.query<{ id: number }>(
    `select id from ${internals(jl).s}.jobs where ($1::text is null or queue = $1) and ($2::text is null or name = $2)
        and ($3::text[] is null or state = any($3)) order by id limit 1000`,
    [m.queue ?? null, m.name ?? null, states],
  );
  const jobs = await Promise.all(rows.map((r) => jl.getJob(r.id)));
  return jobs.filter(
    (j) => (m.input === undefined || matches(j.input, m.input)) && (m.priority === undefined || j.priority === m.priority),
  );
}

const describe = (m: JobMatch) => JSON.stringify(m);
const summary = (jobs: Job[]) =>
  jobs
    .slice(0, 10)
    .map((j) => `  #${j.id} ${j.queue}/${j.name} ${j.state} input=${JSON.stringify(j.input)}`)
    .join('\n');

/** Asserts that at least one job (or exactly `count`) matches; returns the matches. */
export async function expectEnqueued(jl: Jobline, m: JobMatch, opts: { count?: number } = {}): Promise<Job[]> {
  const found = await enqueued(jl, m);
  const ok = opts.count === undefined ? found.length > 0 : found.length === opts.count;
  if (!ok) {
    const near = await enqueued(jl, { queue: m.queue, state: 'any' });
    throw new AssertionError({
      message:
        `expected ${opts.count ?? 'a'} job(s) matching ${describe(m)}, found ${found.length}.\n` +
        (near.length
          ? `Jobs${m.queue ? ` in queue "${m.queue}"` : ''}:\n${summary(near)}`
          : `No jobs${m.queue ? ` in queue "${m.queue}"` : ''}.`),
      actual: found.length,
      expected: opts.count ?? '≥ 1',
      operator: 'expectEnqueued',
    });
  }
  return found;
}

/** Asserts that no job matches. */
export async function expectNotEnqueued(jl: Jobline, m: JobMatch): Promise<void> {
  const found = await enqueued(jl, m);
  if (found.length) {
    throw new AssertionError({
      message: `expected no job matching ${describe(m)}, found ${found.length}:\n${summary(found)}`,
      actual: found.length,
      expected: 0,
      operator: 'expectNotEnqueued',
    });
  }
}
