/**
 * The invariant checker ("what goes in must come out"). After a fault scenario it reads the
 * database and classifies every enqueued job of the run:
 *   completed once · failed for good · cancelled · lost (not finished) · duplicated (more than one
 *   completed attempt, or two recorded attempts whose running intervals overlap)
 * plus attempt-level facts (rescued, rejected late completions). Events on the NATS stream are
 * checked by `checkEvents` (missing, duplicated, out of per-job order) against the outbox rows written.
 */
import type pg from 'pg';

export interface JobVerdicts {
  jobs: number;
  completedOnce: number;
  failedForGood: number;
  cancelled: number;
  lost: number;
  duplicated: number;
  /** Attempts recorded as `lost` (their worker died) — rescued and retried. */
  rescuedAttempts: number;
  /** Attempts closed by graceful release. */
  releasedAttempts: number;
  /** Jobs whose id never made it to the table (enqueue acknowledged but row missing). */
  missingRows: number;
  lostIds: number[];
  duplicatedIds: number[];
}

export async function checkJobs(db: Pick<pg.Pool, 'query'>, schema: string, ids: number[]): Promise<JobVerdicts> {
  const S = `"${schema}"`;
  const { rows } = await db.query(
    `with j as (select * from ${S}.jobs where id = any($1::bigint[])),
     ex as (
       select job_id,
              count(*) filter (where state = 'completed') as completed_attempts,
              count(*) filter (where state = 'lost') as lost_attempts,
              count(*) filter (where state = 'released') as released_attempts
         from ${S}.job_executions where job_id = any($1::bigint[]) group by job_id),
     overlap as (
       select distinct a.job_id from ${S}.job_executions a
         join ${S}.job_executions b on a.job_id = b.job_id and a.attempt < b.attempt
        where a.job_id = any($1::bigint[])
          and tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at))
     select j.id, j.state, coalesce(ex.completed_attempts, 0)::int as completed_attempts,
            coalesce(ex.lost_attempts, 0)::int as lost_attempts,
            coalesce(ex.released_attempts, 0)::int as released_attempts,
            (overlap.job_id is not null) as overlapping
       from j left join ex on ex.job_id = j.id left join overlap on overlap.job_id = j.id`,
    [ids],
  );
  const v: JobVerdicts = {
    jobs: ids.length,
    completedOnce: 0,
    failedForGood: 0,
    cancelled: 0,
    lost: 0,
    duplicated: 0,
    rescuedAttempts: 0,
    releasedAttempts: 0,
    missingRows: ids.length - rows.length,
    lostIds: [],
    duplicatedIds: [],
  };
  for (const r of rows) {
    v.rescuedAttempts += r.lost_attempts;
    v.releasedAttempts += r.released_attempts;
    if (r.completed_attempts > 1 || r.overlapping) {
      v.duplicated++;
      v.duplicatedIds.push(r.id);
    } else if (r.state === 'completed' && r.completed_attempts === 1) v.completedOnce++;
    else if (r.state === 'failed') v.failedForGood++;
    else if (r.state === 'cancelled') v.cancelled++;
    else {
      v.lost++;
      v.lostIds.push(r.id);
    }
  }
  return v;
}

/** Prints the checker table (what the closing report carries) and returns it as text. */
export function summaryTable(title: string, v: JobVerdicts, extra: Record<string, string | number> = {}): string {
  const rows: [string, string | number][] = [
    ['jobs', v.jobs],
    ['completed once', v.completedOnce],
    ['failed for good', v.failedForGood],
    ['cancelled', v.cancelled],
    ['lost', v.lost + v.missingRows],
    ['duplicated', v.duplicated],
    ['rescued attempts', v.rescuedAttempts],
    ['released attempts', v.releasedAttempts],
    ...Object.entries(extra),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const text = [
    `\n### ${title}`,
    `| ${'check'.padEnd(w)} | value |`,
    `|${'-'.repeat(w + 2)}|-------|`,
    ...rows.map(([k, x]) => `| ${k.padEnd(w)} | ${x} |`),
  ].join('\n');
  console.log(text);
  return text;
}

/** Full or reduced counts: `FAULTS_SCALE=full` for the report run, reduced in CI. */
export const FULL = process.env.FAULTS_SCALE === 'full';
export const scale = (reduced: number, full: number) => (FULL ? full : reduced);

export interface EventVerdicts {
  /** Outbox rows written (from the audit table a trigger fills on every insert). */
  written: number;
  /** Messages on the stream. */
  delivered: number;
  /** Written but not on the stream. */
  missing: number;
  /** Extra copies of an event on the stream (same event id twice). */
  duplicated: number;
  /** On the stream but never written (a checker or relay bug if ever non-zero). */
  unknown: number;
  /** Jobs whose events arrive in a different order than the database wrote them. */
  outOfOrder: number;
}

/**
 * Compares the outbox rows a run wrote (id, job id; ids grow with each job's transitions) with
 * the stream's messages in stream order: nothing missing, nothing twice, each job's events in
 * the order of its transitions.
 */
export function checkEvents(written: { id: number; jobId: number | null }[], stream: { id: number; jobId?: number }[]): EventVerdicts {
  const writtenIds = new Set(written.map((w) => w.id));
  const seen = new Set<number>();
  let duplicated = 0;
  let unknown = 0;
  const lastPerJob = new Map<number, number>();
  const disordered = new Set<number>();
  for (const m of stream) {
    if (seen.has(m.id)) {
      duplicated++;
      continue;
    }
    seen.add(m.id);
    if (!writtenIds.has(m.id)) unknown++;
    if (m.jobId === undefined) continue;
    const last = lastPerJob.get(m.jobId);
    if (last !== undefined && m.id < last) disordered.add(m.jobId);
    lastPerJob.set(m.jobId, m.id);
  }
  const missing = written.filter((w) => !seen.has(w.id)).length;
  return { written: written.length, delivered: stream.length, missing, duplicated, unknown, outOfOrder: disordered.size };
}
