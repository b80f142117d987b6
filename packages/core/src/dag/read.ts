/** Reads of DAG runs: the run, every node with its job's state and timings, and the edges. */
import { NotFoundError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { DAG_RUN_COLUMNS, mapDagNode, mapDagRun, type DagNodeRow, type DagRun, type DagRunDetail, type DagRunRow } from '../model/dag.js';

export type { DagRun, DagNode, DagEdge, DagRunDetail } from '../model/dag.js';

export async function getDagRun(db: Queryable, s: string, id: number): Promise<DagRun> {
  const { rows } = await db.query<DagRunRow>(`select ${DAG_RUN_COLUMNS} from ${s}.dag_runs where id = $1`, [id]);
  if (!rows.length) throw new NotFoundError('DAG run', id);
  return mapDagRun(rows[0]);
}

export async function getDag(db: Queryable, s: string, id: number): Promise<DagRunDetail> {
  const run = await getDagRun(db, s, id);
  const { rows } = await db.query<DagNodeRow>(
    `select n.key, n.job_id, n.state, n.depends_on, n.children, n.remaining_deps,
            j.state as job_state, j.queue, j.name, j.attempt, j.max_attempts, j.created_at, j.completed_at,
            j.worker_id, j.error,
            coalesce((select min(e.started_at) from ${s}.job_executions e where e.job_id = j.id), j.started_at) as started_at
       from ${s}.dag_nodes n left join ${s}.jobs j on j.id = n.job_id
      where n.dag_run_id = $1
      order by n.job_id`,
    [id],
  );
  const nodes = rows.map(mapDagNode);
  const edges = nodes.flatMap((n) => n.dependsOn.map((from) => ({ from, to: n.key })));
  return { ...run, nodes, edges };
}
