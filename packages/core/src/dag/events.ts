/**
 * Outbox rows for DAG transitions (DESIGN §5), embedded in the statements that make the
 * transitions so an event exists exactly when its change committed.
 *
 * The source relation has the columns `event`, `dag_run_id`, `state`, `node_key` (null for run
 * events), `job_id` (null for run events) and `ord` (rows are written, and so numbered, in
 * `ord` order — e.g. a parent's node_succeeded before the node_ready of the child it released).
 */
import { dagEventType, dagSubject } from '@jobline/contracts';
import { DagEvent, NODE_EVENT_BY_STATE } from '../model/events.js';
import { sqlCase, sqlConcat } from '../model/sql.js';

// Type and subject as SQL concatenations of the contracts' own builders (`dagEventType`,
// `dagSubject` under the stored default prefix), so the outbox cannot drift from what subscribers match.
const DAG_EVENT_TYPE_SQL = sqlConcat(dagEventType, 'e.event');
const DAG_SUBJECT_SQL = sqlConcat(dagSubject, 'e.event', 'e.dag_run_id');

export function insertDagEvents(s: string, source: string): string {
  return `insert into ${s}.events (type, subject, job_id, dag_run_id, data)
    select ${DAG_EVENT_TYPE_SQL},
           ${DAG_SUBJECT_SQL},
           e.job_id, e.dag_run_id,
           jsonb_strip_nulls(jsonb_build_object(
             'dagRunId', e.dag_run_id, 'name', r.name, 'state', e.state,
             'nodeKey', e.node_key, 'jobId', e.job_id,
             'failurePolicy', case when e.node_key is null then r.failure_policy end))
      from ${source} e
      join ${s}.dag_runs r on r.id = e.dag_run_id
     order by e.ord, e.dag_run_id, e.node_key`;
}

/** The node event for a node that reached `state` (SQL `case`, from model/events.ts). */
export const nodeEventFor = (stateColumn: string) => sqlCase(stateColumn, NODE_EVENT_BY_STATE, DagEvent.nodeCancelled);
