/**
 * The model layer (packages/core/src/model) is the one vocabulary of states: its const objects
 * must equal the CHECK constraints of a freshly migrated schema, in both directions, and each
 * derived set must be a subset of its state machine. Partial indexes whose predicate is a state
 * list must name exactly the derived set the queries render (otherwise a query would stop
 * matching its index without any test noticing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DagEventDataSchema, JobStateSchema } from '@jobline/contracts';
import * as model from '../packages/core/dist/model/index.js';
import { openTestDb, type TestDb } from './helpers/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

/** The string literals of a constraint or index predicate: `'a'::text` → a. */
const literals = (def: string): string[] => [...def.matchAll(/'((?:[^']|'')*)'::text/g)].map((m) => m[1]!.replaceAll("''", "'"));

/** The values allowed by the single-column CHECK constraint on table.column. */
async function checkValues(table: string, column: string): Promise<string[]> {
  const rows = await db.sql<{ def: string }>(
    `select pg_get_constraintdef(c.oid) as def
       from pg_constraint c
       join pg_class t on t.oid = c.conrelid
       join pg_namespace n on n.oid = t.relnamespace
       join pg_attribute a on a.attrelid = t.oid and a.attnum = any(c.conkey)
      where n.nspname = $1 and t.relname = $2 and a.attname = $3 and c.contype = 'c' and cardinality(c.conkey) = 1`,
    [db.schema, table, column],
  );
  // A column with a state list has exactly one such CHECK (nullable ones add `is null or …`).
  const lists = rows.map((r) => r.def).filter((d) => / = ANY \(ARRAY\[/.test(d));
  expect(lists, `${table}.${column}: one CHECK with a value list`).toHaveLength(1);
  return literals(lists[0]!);
}

async function indexPredicate(index: string): Promise<string[]> {
  const [r] = await db.sql<{ pred: string }>(
    `select pg_get_expr(i.indpred, i.indrelid) as pred
       from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2`,
    [db.schema, index],
  );
  expect(r, `index ${index} exists`).toBeDefined();
  return literals(r!.pred);
}

const machines: [string, string, Record<string, string>][] = [
  ['jobs', 'state', model.JobState],
  ['job_executions', 'state', model.ExecutionState],
  ['dag_runs', 'state', model.DagRunState],
  ['dag_runs', 'failure_policy', model.DagFailurePolicy],
  ['dag_nodes', 'state', model.DagNodeState],
  ['schedule_runs', 'status', model.RunStatus],
  ['schedule_runs', 'trigger', model.RunTrigger],
  ['job_definitions', 'executor', model.ExecutorKind],
];

describe('state constants equal the schema CHECK constraints', () => {
  for (const [table, column, constants] of machines) {
    it(`${table}.${column}`, async () => {
      const db = await checkValues(table, column);
      const ts = Object.values(constants);
      expect(new Set(ts).size, 'no duplicate values in the const object').toBe(ts.length);
      // both directions, order-insensitive: every CHECK value has a constant and vice versa
      expect([...ts].sort()).toEqual([...db].sort());
    });
  }
});

describe('@jobline/contracts (which cannot import core) spells the same states', () => {
  it('JobStateSchema is JobState', () => {
    expect([...JobStateSchema.options].sort()).toEqual(Object.values(model.JobState).sort());
  });
  it("DAG event data's state is a run state or a node state, and covers both", () => {
    const both = [...new Set([...Object.values(model.DagRunState), ...Object.values(model.DagNodeState)])].sort();
    expect([...DagEventDataSchema.shape.state.options].sort()).toEqual(both);
  });
});

describe('derived sets', () => {
  const sets: [string, readonly string[], Record<string, string>][] = [
    ['JobFinished', model.JobFinished, model.JobState],
    ['JobUnfinished', model.JobUnfinished, model.JobState],
    ['JobClaimable', model.JobClaimable, model.JobState],
    ['JobPromotable', model.JobPromotable, model.JobState],
    ['JobNotStarted', model.JobNotStarted, model.JobState],
    ['JobUnsuccessful', model.JobUnsuccessful, model.JobState],
    ['JobInFlight', model.JobInFlight, model.JobState],
    ['JobOutcomeState', model.JobOutcomeState, model.JobState],
    ['DagRunFinished', model.DagRunFinished, model.DagRunState],
    ['DagRunUnsuccessful', model.DagRunUnsuccessful, model.DagRunState],
    ['DagNodeTerminal', model.DagNodeTerminal, model.DagNodeState],
    ['DagNodeOpen', model.DagNodeOpen, model.DagNodeState],
    ['DagNodeNotStarted', model.DagNodeNotStarted, model.DagNodeState],
    ['RunOpen', model.RunOpen, model.RunStatus],
    ['RunPending', model.RunPending, model.RunStatus],
    ['RunEnded', model.RunEnded, model.RunStatus],
    ['RunRetryable', model.RunRetryable, model.RunStatus],
    ['RunNotRun', model.RunNotRun, model.RunStatus],
    ['RunSyncedFinished', model.RunSyncedFinished, model.RunStatus],
  ];
  for (const [name, set, machine] of sets) {
    it(`${name} is a non-empty subset of its states, without duplicates`, () => {
      const all = new Set(Object.values(machine));
      expect(set.length).toBeGreaterThan(0);
      expect(new Set(set).size).toBe(set.length);
      for (const s of set) expect(all.has(s), `${name} has ${s}`).toBe(true);
    });
  }

  it('finished and unfinished jobs partition the job states', () => {
    const both = [...model.JobFinished, ...model.JobUnfinished];
    expect(both.sort()).toEqual(Object.values(model.JobState).sort());
    expect(model.JobFinished.filter((s) => (model.JobUnfinished as readonly string[]).includes(s))).toEqual([]);
  });

  it('terminal and open nodes partition the node states', () => {
    expect([...model.DagNodeTerminal, ...model.DagNodeOpen].sort()).toEqual(Object.values(model.DagNodeState).sort());
  });

  it('isJobFinished agrees with JobFinished', () => {
    for (const s of Object.values(model.JobState))
      expect(model.isJobFinished(s)).toBe((model.JobFinished as readonly string[]).includes(s));
  });

  it('a completion names its event after the job state (else u.state in complete.ts), except retryable → retrying', () => {
    for (const st of model.JobOutcomeState) {
      if (st === model.JobState.retryable) expect(Object.values(model.JobEvent)).toContain(model.JobEvent.retrying);
      else expect(Object.values(model.JobEvent)).toContain(st);
    }
  });

  it('the state-to-state and state-to-event maps use only known values', () => {
    const node = new Set(Object.values(model.DagNodeState));
    const job = new Set(Object.values(model.JobState));
    for (const [k, v] of Object.entries(model.NODE_STATE_BY_JOB_STATE)) expect(job.has(k as never) && node.has(v)).toBe(true);
    const dagEvents = new Set(Object.values(model.DagEvent));
    for (const [k, v] of Object.entries(model.NODE_EVENT_BY_STATE)) expect(node.has(k as never) && dagEvents.has(v)).toBe(true);
    const run = new Set(Object.values(model.DagRunState));
    expect(Object.keys(model.RUN_EVENT_BY_STATE).sort()).toEqual([...model.DagRunFinished].sort());
    for (const v of Object.values(model.RUN_EVENT_BY_STATE)) expect(dagEvents.has(v)).toBe(true);
    expect(run.size).toBeGreaterThan(0);
  });
});

describe('partial indexes name exactly the derived sets the queries render', () => {
  const cases: [string, readonly string[]][] = [
    ['jobs_claim_idx', model.JobClaimable],
    ['jobs_due_idx', model.JobPromotable],
    ['jobs_running_idx', [model.JobState.running]],
    ['jobs_finished_idx', model.JobFinished],
    ['schedule_runs_open_idx', model.RunOpen],
    ['schedule_runs_gate_idx', model.RunPending],
    ['schedule_runs_unhandled_idx', model.RunEnded],
  ];
  for (const [index, set] of cases) {
    it(index, async () => {
      expect((await indexPredicate(index)).sort()).toEqual([...set].sort());
    });
  }
});

describe('SQL rendering', () => {
  it('sqlLit and sqlList render literals (quotes doubled), and refuse an empty list', () => {
    expect(model.sqlLit(model.JobState.running)).toBe("'running'");
    expect(model.sqlLit("it's")).toBe("'it''s'");
    expect(model.sqlList(model.JobFinished)).toBe("'completed', 'failed', 'cancelled'");
    expect(() => model.sqlList([])).toThrow(/empty/);
  });

  it('renderings are valid SQL that PostgreSQL reads back as the same values', async () => {
    const [r] = await db.sql(
      `select array[${model.sqlList(model.JobFinished)}] as list, ${model.sqlLit("it's")} as lit,
              ${model.sqlCase(`'completed'::text`, model.NODE_STATE_BY_JOB_STATE, model.DagNodeState.cancelled)} as mapped,
              ${model.sqlCase(`'running'::text`, model.NODE_STATE_BY_JOB_STATE, model.DagNodeState.cancelled)} as other,
              ${model.sqlConcat((a: string, b: string) => `x.${a}.y'${b}`, `'A'`, `'B'`)} as concat`,
    );
    expect(r).toEqual({ list: [...model.JobFinished], lit: "it's", mapped: 'succeeded', other: 'cancelled', concat: "x.A.y'B" });
  });
});
