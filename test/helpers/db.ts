/**
 * Per-file isolation: every test file works in its own schema of the test database, so files
 * run in parallel without seeing each other's jobs, workers or leases.
 */
import { inject } from 'vitest';
import pg from 'pg';
import pino from 'pino';
import { Jobline, type ConnectOptions } from '@jobline/core';
import { internals } from '@jobline/core/internal';

export const databaseUrl = (): string => inject('databaseUrl');

let counter = 0;
export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
}

/** Replaces `$S` in SQL text with the quoted schema name (schema names here are generated, never input). */
export const inSchema = (text: string, schema: string): string => text.replaceAll('$S', `"${schema.replace(/"/g, '""')}"`);

export const quietLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface TestDb {
  jl: Jobline;
  schema: string;
  url: string;
  /** Plain SQL on the test database (for checks and backdating). */
  sql: <R extends pg.QueryResultRow = any>(text: string, values?: unknown[]) => Promise<R[]>;
  /** `sql` with `$S` standing for this database's quoted schema: q(`select … from $S.jobs`). */
  q: <R extends pg.QueryResultRow = any>(text: string, values?: unknown[]) => Promise<R[]>;
  close(): Promise<void>;
}

/** A migrated schema of its own and a Jobline connected to it. */
export async function openTestDb(opts: Partial<ConnectOptions> = {}): Promise<TestDb> {
  const url = databaseUrl();
  const schema = uniqueSchema();
  // No relay unless a test asks for one: event ids are per schema, so relays of many test
  // schemas into the shared JOBLINE stream would dedupe each other's events (test/events* use their own streams).
  const jl = await Jobline.connect({ databaseUrl: url, schema, logger: quietLogger(), natsUrl: '', ...opts });
  const sql = async (text: string, values?: unknown[]) => (await internals(jl).pool.query(text, values)).rows;
  return {
    jl,
    schema,
    url,
    sql,
    q: (text, values) => sql(inSchema(text, schema), values),
    async close() {
      await jl.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
      await admin.end();
    },
  };
}

type Falsy = undefined | null | false | 0 | '';

/** Polls `check` until it returns a truthy value (typed without the falsy cases) or `timeoutMs` passes. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 20_000, what = 'condition'): Promise<Exclude<T, Falsy>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as Exclude<T, Falsy>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
