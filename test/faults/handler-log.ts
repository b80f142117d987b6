/**
 * A handler-side log, independent of Jobline's tables (and of the database, which the restart
 * scenario takes down): the fixture worker appends one line per handler start and end to a file
 * of its own (`HANDLER_LOG=<dir>`, synchronous appends, so a SIGKILL loses nothing written).
 * Checked against the jobs of a run:
 *   missing  – jobs whose handler never ran to its end (Jobline may say "completed": this says
 *              whether work really happened)
 *   unbacked – jobs whose completed attempt (per Jobline) has no finished handler run of that attempt
 *   overlapping – two finished runs of one job that overlapped in time (reported, not a failure:
 *              a live worker whose heartbeat was late can still be running when its job is
 *              rescued; fencing keeps its result out)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';

export interface HandlerLogEntry {
  job: number;
  attempt: number;
  pid: number;
  what: 'start' | 'end';
  t: number;
}

export interface HandlerLogVerdicts {
  runsStarted: number;
  runsFinished: number;
  missing: number[];
  unbacked: number[];
  overlapping: number[];
  /** Jobs whose handler finished more than once (a worker killed after the handler, before the commit). */
  finishedMoreThanOnce: number;
}

export function handlerLogDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'jobline-handler-log-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function readHandlerLog(dir: string): HandlerLogEntry[] {
  const out: HandlerLogEntry[] = [];
  for (const f of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      // a process killed mid-append can leave a torn last line: it is not a finished run
      if (line) {
        try {
          out.push(JSON.parse(line));
        } catch {}
      }
    }
  }
  return out;
}

export async function checkHandlerLog(
  db: Pick<pg.Pool, 'query'>,
  schema: string,
  ids: number[],
  entries: HandlerLogEntry[],
): Promise<HandlerLogVerdicts> {
  const { rows } = await db.query<{ id: string; attempt: number }>(
    `select id, attempt from "${schema}".jobs where id = any($1::bigint[]) and state = 'completed'`,
    [ids],
  );
  const runs = new Map<string, { start?: number; end?: number; job: number; attempt: number }>();
  for (const e of entries) {
    const key = `${e.job}/${e.attempt}/${e.pid}`;
    const r = runs.get(key) ?? { job: e.job, attempt: e.attempt };
    if (e.what === 'start') r.start = e.t;
    else r.end = e.t;
    runs.set(key, r);
  }
  const finishedByJob = new Map<number, { attempt: number; start: number; end: number }[]>();
  for (const r of runs.values()) {
    if (r.end === undefined) continue;
    finishedByJob.set(r.job, [...(finishedByJob.get(r.job) ?? []), { attempt: r.attempt, start: r.start ?? r.end, end: r.end }]);
  }
  const v: HandlerLogVerdicts = { runsStarted: 0, runsFinished: 0, missing: [], unbacked: [], overlapping: [], finishedMoreThanOnce: 0 };
  for (const r of runs.values()) {
    if (r.start !== undefined) v.runsStarted++;
    if (r.end !== undefined) v.runsFinished++;
  }
  for (const id of ids) {
    const finished = finishedByJob.get(id) ?? [];
    if (!finished.length) v.missing.push(id);
    if (finished.length > 1) v.finishedMoreThanOnce++;
    const sorted = [...finished].sort((a, b) => a.start - b.start);
    if (sorted.some((r, i) => i > 0 && r.start < sorted[i - 1].end)) v.overlapping.push(id);
  }
  for (const r of rows) {
    const id = Number(r.id);
    if (!(finishedByJob.get(id) ?? []).some((f) => f.attempt === r.attempt)) v.unbacked.push(id);
  }
  return v;
}

/** The rows a scenario's summary table gets from the handler log. */
export function handlerLogRows(v: HandlerLogVerdicts): Record<string, number> {
  return {
    'handler runs started (handler log)': v.runsStarted,
    'handler runs finished (handler log)': v.runsFinished,
    'jobs with no finished handler run': v.missing.length,
    'completions without a finished run of that attempt': v.unbacked.length,
    'jobs whose handler finished twice (killed before commit)': v.finishedMoreThanOnce,
    'jobs with overlapping runs (late heartbeat; fenced)': v.overlapping.length,
  };
}
