import { z } from 'zod';
import { ValidationError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { parseOrThrow } from '../schemas.js';
import { DAG_RUN_COLUMNS, mapDagRun, type DagRun, type DagRunRow } from '../model/dag.js';
import { DagRunState } from '../model/states.js';

/** DAG runs, newest first, keyset-paginated on id (the primary key); optionally one state or name. */
export const DagListSchema = z.strictObject({
  state: z.enum(Object.values(DagRunState) as [DagRunState, ...DagRunState[]]).optional(),
  name: z.string().min(1).max(200).optional(),
  /** @default 50 */
  limit: z.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
});
export type DagListFilter = z.input<typeof DagListSchema>;

export interface DagRunPage {
  runs: DagRun[];
  nextCursor?: string;
}

export async function listDagRuns(db: Queryable, s: string, filter: DagListFilter): Promise<DagRunPage> {
  const f = parseOrThrow(DagListSchema, filter);
  const before = f.cursor === undefined ? null : Number(Buffer.from(f.cursor, 'base64url').toString());
  if (before !== null && !Number.isSafeInteger(before)) {
    throw ValidationError.field('cursor', 'is not a cursor from a previous page; pass nextCursor unchanged or omit it');
  }
  const { rows } = await db.query<DagRunRow>(
    `select ${DAG_RUN_COLUMNS}
       from ${s}.dag_runs
      where ($1::text is null or state = $1) and ($2::text is null or name = $2) and ($3::bigint is null or id < $3)
      order by id desc limit $4`,
    [f.state ?? null, f.name ?? null, before, f.limit + 1],
  );
  const runs = rows.slice(0, f.limit).map(mapDagRun);
  return { runs, ...(rows.length > f.limit ? { nextCursor: Buffer.from(String(runs.at(-1)!.id)).toString('base64url') } : {}) };
}

/** The distinct queues of a run's nodes (for authorising queue-limited tokens). */
export async function dagRunQueues(db: Queryable, s: string, ids: number[]): Promise<Map<number, string[]>> {
  const { rows } = await db.query<{ dag_run_id: number; queues: string[] }>(
    `select dag_run_id, array_agg(distinct queue) as queues from ${s}.jobs where dag_run_id = any($1::bigint[]) group by 1`,
    [ids],
  );
  return new Map(rows.map((r) => [r.dag_run_id, r.queues]));
}
