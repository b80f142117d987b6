/**
 * Query logging and timing for every statement Jobline runs through its pool: at LOG_LEVEL=debug
 * each statement is logged with its name, duration and row count; statements slower than
 * `slowQueryMs` are logged at warn whatever the level; every duration goes into a histogram by
 * statement name (`jobline_db_statement_duration_seconds`, which the apps expose on /metrics).
 *
 * Bind values are never logged or measured: they hold user data (job inputs, outputs).
 *
 * Names, in order: a `label` field on the query config (see `labelled()`; it is not pg's
 * `name`, so it creates no server-side prepared statement — the hot path must also work behind
 * a transaction-mode pooler), else pg's `name` when it is a readable one, else one derived from
 * the SQL text (`insert jobs`, `update schedule_runs`, `with next`), memoised per text.
 *
 * Not timed: the LISTEN connection of db/listener.ts (it runs LISTEN and nothing else, once
 * per connect).
 *
 * Cost: two performance.now() calls, a Map lookup and a histogram update per statement, on a
 * path whose statements take 0.1–10 ms.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { Histogram } from '../observability/metrics.js';

export interface QueryLogOptions {
  logger: Logger;
  /** Statements slower than this are logged at warn at any level; 0 = off. @default 0 */
  slowQueryMs?: number;
  /** The instance's schema: a `_<schema>` suffix of pg statement names is dropped (metric labels stay few). */
  schema?: string;
  /** Where durations go; one per Jobline instance. */
  histogram: Histogram<'statement'>;
}

/** From 0.1 ms: most of Jobline's statements take under a millisecond. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function statementHistogram(): Histogram<'statement'> {
  return new Histogram(
    'jobline_db_statement_duration_seconds',
    'Duration of the database statements Jobline runs, by statement name.',
    ['statement'],
    BUCKETS,
  );
}

/** A query config carrying a statement name for logs and metrics (not a prepared statement). */
export function labelled(label: string, text: string, values?: unknown[]): pg.QueryConfig {
  return { text, values, label } as pg.QueryConfig;
}

const derived = new Map<string, string>();
const MAX_DERIVED = 2000;
const VERB = /^\s*(?:\/\*[\s\S]*?\*\/\s*|--[^\n]*\n\s*)*(\w+)/;
const ident = `((?:"[^"]+"|\\w+)(?:\\.(?:"[^"]+"|\\w+))?)`;
const TARGET: Record<string, RegExp> = {
  insert: new RegExp(`^\\s*insert\\s+into\\s+${ident}`, 'i'),
  update: new RegExp(`^\\s*update\\s+${ident}`, 'i'),
  delete: new RegExp(`^\\s*delete\\s+from\\s+${ident}`, 'i'),
  select: new RegExp(`\\bfrom\\s+${ident}`, 'i'),
  with: new RegExp(`^\\s*with\\s+(?:recursive\\s+)?${ident}`, 'i'),
  truncate: new RegExp(`^\\s*truncate\\s+(?:table\\s+)?${ident}`, 'i'),
};
const unqualified = (s: string) => s.split('.').at(-1)!.replace(/"/g, '');

/** `insert jobs`, `select schedule_runs`, `select pg_advisory_lock`, `begin`, … */
export function deriveName(text: string): string {
  let name = derived.get(text);
  if (name) return name;
  const verb = (VERB.exec(text)?.[1] ?? 'query').toLowerCase();
  const body = text.replace(VERB, (m) => m.slice(m.length - verb.length)); // drop leading comments
  const target = TARGET[verb]?.exec(body)?.[1];
  const fn = verb === 'select' && !target ? /^\s*select\s+(\w+)\s*\(/i.exec(body)?.[1] : undefined;
  name = target ? `${verb} ${unqualified(target)}` : fn ? `select ${fn.toLowerCase()}` : verb;
  if (derived.size >= MAX_DERIVED) derived.clear();
  derived.set(text, name);
  return name;
}

/** Generated names (a hash of the text) say nothing: those statements are named by their text. */
const OPAQUE = /_[0-9a-f]{12,}$/;

function nameOf(arg: unknown, suffixes: string[]): string {
  if (typeof arg === 'string') return deriveName(arg);
  const c = arg as { label?: string; name?: string; text?: string };
  if (c.label) return c.label;
  if (c.name && !OPAQUE.test(c.name)) {
    const suffix = suffixes.find((x) => c.name!.endsWith(x));
    return suffix ? c.name.slice(0, -suffix.length) : c.name;
  }
  return deriveName(c.text ?? '');
}

const rowCount = (res: unknown): number => {
  if (Array.isArray(res)) return res.reduce((n, r) => n + rowCount(r), 0);
  const r = res as pg.QueryResult | undefined;
  return r?.rowCount ?? r?.rows?.length ?? 0;
};

/** Wraps a `query` function: timed, named, logged. Streams and cursors (submittables) pass through untimed. */
function timed(original: (...args: unknown[]) => unknown, o: QueryLogOptions): (this: unknown, ...args: unknown[]) => unknown {
  const slow = o.slowQueryMs ?? 0;
  const suffixes = o.schema ? [`_${o.schema}`, `_"${o.schema}"`] : [];
  const done = (name: string, t0: number, err: unknown, res: unknown) => {
    const ms = performance.now() - t0;
    o.histogram.observe({ statement: name }, ms / 1000);
    const slowOne = slow > 0 && ms >= slow;
    if (!slowOne && !o.logger.isLevelEnabled('debug')) return;
    const fields = {
      statement: name,
      ms: Math.round(ms * 100) / 100,
      ...(err ? { error: (err as { code?: string }).code ?? (err as Error).message } : { rows: rowCount(res) }),
    };
    if (slowOne) o.logger.warn({ ...fields, slowQueryMs: slow }, 'slow database statement');
    else o.logger.debug(fields, err ? 'database statement failed' : 'database statement');
  };
  return function (this: unknown, ...args: unknown[]) {
    const first = args[0] as { submit?: unknown } | string | undefined;
    if (first === undefined || (typeof first === 'object' && typeof first.submit === 'function')) return original.apply(this, args);
    const name = nameOf(first, suffixes);
    const t0 = performance.now();
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const cb = args[last] as (err: unknown, res: unknown) => void;
      args[last] = (err: unknown, res: unknown) => {
        done(name, t0, err, res);
        cb(err, res);
      };
      return original.apply(this, args);
    }
    const p = original.apply(this, args) as Promise<unknown> | undefined;
    p?.then(
      (res) => done(name, t0, undefined, res),
      (err) => done(name, t0, err, undefined),
    );
    return p;
  };
}

/**
 * A pg Client class whose `query` is timed: given to pg.Pool as its `Client`, so every client
 * the pool opens (and pool.query, which runs on one) is instrumented through the prototype —
 * no per-client patching.
 */
export function instrumentedClient(o: QueryLogOptions, base: typeof pg.Client = pg.Client): typeof pg.Client {
  // On top of `base` (the pooler-aware client of db/connection-options.ts when there is one), so
  // the time logged includes a retried unnamed statement.
  const query = timed(base.prototype.query as (...args: unknown[]) => unknown, o);
  class TimedClient extends base {}
  Object.defineProperty(TimedClient.prototype, 'query', { value: query, writable: true, configurable: true });
  return TimedClient;
}
