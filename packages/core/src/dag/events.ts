/**
 * Outbox rows for DAG transitions (DESIGN §5), embedded in the statements that make the
 * transitions so an event exists exactly when its change committed.
 *
 * The source relation has the columns `event`, `dag_run_id`, `state`, `node_key` (null for run
 * events), `job_id` (null for run events) and `ord` (rows are written, and so numbered, in
 * `ord` order — e.g. a parent's node_succeeded before the node_ready of the child it released).
 */
export function insertDagEvents(s: string, source: string): string {
  return `insert into ${s}.events (type, subject, job_id, dag_run_id, data)
    select 'dev.jobline.dag.' || e.event,
           'jobline.dag.' || e.event || '.' || e.dag_run_id,
           e.job_id, e.dag_run_id,
           jsonb_strip_nulls(jsonb_build_object(
             'dagRunId', e.dag_run_id, 'name', r.name, 'state', e.state,
             'nodeKey', e.node_key, 'jobId', e.job_id,
             'failurePolicy', case when e.node_key is null then r.failure_policy end))
      from ${source} e
      join ${s}.dag_runs r on r.id = e.dag_run_id
     order by e.ord, e.dag_run_id, e.node_key`;
}

/** The node event for a node that reached `state`. */
export const nodeEventFor = (stateColumn: string) => `case ${stateColumn}
    when 'available' then 'node_ready' when 'succeeded' then 'node_succeeded'
    when 'failed' then 'node_failed' when 'skipped' then 'node_skipped'
    else 'node_cancelled' end`;
