/**
 * The `$ref` half of a release (see refs.ts and README.md): released nodes whose stored input
 * holds references get it replaced by their parents' outputs, in the releasing transaction.
 */
import type { Queryable } from '../db/pool.js';
import { ValidationError } from '../db/errors.js';
import { validateDefinitionInput } from '../definitions/apply.js';
import { findDefinitions, refKey } from '../definitions/registry.js';
import { parseDefinitionRef } from '../definitions/schema.js';
import { insertJobEvents } from '../events/outbox.js';
import { serialiseJson } from '../schemas.js';
import { DagEvent, JobEvent } from '../model/events.js';
import { sqlLit } from '../model/sql.js';
import { DagNodeState, JobState } from '../model/states.js';
import { insertDagEvents } from './events.js';
import type { FailedNode } from './policy.js';
import { RefError, resolveRefs } from './refs.js';

export interface InputContext {
  s: string;
  maxInputBytes: number;
}

export interface ReleasedWithRefs {
  jobId: number;
  dagRunId: number;
  key: string;
  input: unknown;
  definition?: string;
  outputs: Record<string, unknown>;
}

const failUnresolvedSql = (s: string) => `
  with f as (
    select * from unnest($1::bigint[], $2::jsonb[]) as f(id, error)
  ), j as (
    update ${s}.jobs j set state = ${sqlLit(JobState.failed)}, error = f.error, completed_at = now(), updated_at = now()
      from f where j.id = f.id and j.state = ${sqlLit(JobState.available)}
    returning j.*
  ), n as (
    update ${s}.dag_nodes n set state = ${sqlLit(DagNodeState.failed)}
      from j where n.dag_run_id = j.dag_run_id and n.key = j.dag_node_key and n.state = ${sqlLit(DagNodeState.available)}
    returning n.dag_run_id, n.key, n.job_id, n.state
  ), jev as (
    ${insertJobEvents(s, `(select j.*, ${sqlLit(JobEvent.failed)} as event, now() as finished_at, null::float8 as duration_ms from j)`)}
  ), dev as (
    ${insertDagEvents(s, `(select ${sqlLit(DagEvent.nodeFailed)} as event, n.dag_run_id, n.state, n.key as node_key, n.job_id, 0 as ord from n)`)}
  )
  select dag_run_id, key from n`;

/**
 * Replaces `$ref`s in released nodes' inputs with their parents' outputs, in the releasing
 * transaction. A reference that cannot be resolved, a resolved input over the size limit, or
 * one its definition's schema rejects fails the node for good (code DAG_INPUT_INVALID; retrying
 * could not help) — it then goes through the run's failure policy like any failure.
 */
export async function resolveReleasedInputs(db: Queryable, ctx: InputContext, nodes: ReleasedWithRefs[]): Promise<FailedNode[]> {
  const refs = [...new Set(nodes.map((n) => n.definition).filter((d): d is string => d !== undefined))]
    .map(parseDefinitionRef)
    .filter((r) => r !== undefined);
  const definitions = refs.length ? await findDefinitions(db, ctx.s, refs) : new Map();
  const ok: { id: number; json: string | null }[] = [];
  const bad: { id: number; error: string }[] = [];
  for (const n of nodes) {
    try {
      const value = resolveRefs(n.input, n.outputs);
      const json = serialiseJson(value, 'input', ctx.maxInputBytes);
      const ref = n.definition === undefined ? undefined : parseDefinitionRef(n.definition);
      const d = ref && definitions.get(refKey(ref));
      if (d) {
        const issues = validateDefinitionInput(d, value);
        if (issues.length) throw new ValidationError(issues);
      }
      ok.push({ id: n.jobId, json });
    } catch (err) {
      if (!(err instanceof RefError) && !(err instanceof ValidationError)) throw err;
      const error = {
        name: 'DagInputError',
        code: 'DAG_INPUT_INVALID',
        retryable: false,
        message: `the input of node "${n.key}" could not be built from its parents' outputs: ${err.message}`,
      };
      bad.push({ id: n.jobId, error: JSON.stringify(error) });
    }
  }
  if (ok.length) {
    await db.query(`update ${ctx.s}.jobs j set input = u.input from unnest($1::bigint[], $2::jsonb[]) as u(id, input) where j.id = u.id`, [
      ok.map((o) => o.id),
      ok.map((o) => o.json),
    ]);
  }
  if (!bad.length) return [];
  const { rows } = await db.query<{ dag_run_id: number; key: string }>(failUnresolvedSql(ctx.s), [
    bad.map((b) => b.id),
    bad.map((b) => b.error),
  ]);
  return rows.map((r) => ({ dagRunId: r.dag_run_id, key: r.key }));
}
