/**
 * Where the time goes on the PostgreSQL side of a scenario: rows written (inserted, updated, of
 * them HOT, deleted) in the run's database, WAL written (bytes, records, full-page images), and
 * the statements run (calls and execution time from pg_stat_statements, when the server preloads
 * it: the bench's own server does, `--server own`). Row counts are per database, so other clients
 * of a shared server don't count; WAL is per cluster, so on a shared server it includes their
 * writes (the report says which). Table statistics reach the views when a backend flushes them
 * (at most once a second, and at exit), so `end` is taken after the scenario's workers and
 * producer have closed their connections.
 */
import { sleep } from './clock.mjs';
import { withClient } from './server.mjs';

async function snapshot(c) {
  const {
    rows: [t],
  } = await c.query(
    `select coalesce(sum(n_tup_ins), 0)::float8 as ins, coalesce(sum(n_tup_upd), 0)::float8 as upd,
            coalesce(sum(n_tup_hot_upd), 0)::float8 as hot, coalesce(sum(n_tup_del), 0)::float8 as del
       from pg_stat_user_tables`,
  );
  const {
    rows: [w],
  } = await c.query(
    `select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::float8 as lsn,
            wal_records::float8 as records, wal_fpi::float8 as fpi, wal_bytes::float8 as bytes from pg_stat_wal`,
  );
  let statements;
  const {
    rows: [ext],
  } = await c.query("select to_regclass('pg_stat_statements') is not null as ok");
  if (ext.ok) {
    const { rows } = await c.query(
      `select queryid::text as id, left(regexp_replace(query, '\\s+', ' ', 'g'), 120) as query, calls::float8 as calls,
              total_exec_time as ms, rows::float8 as rows, shared_blks_hit::float8 + shared_blks_read::float8 as blks,
              plans::float8 as plans, total_plan_time as plan_ms
         from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
          and query !~ 'pg_stat_statements|pg_stat_user_tables|pg_current_wal'`,
    );
    statements = new Map(rows.map((r) => [r.id, r]));
  }
  return { t, w, statements };
}

/** Starts a profile of the run's database; `await p.end(jobs)` returns the per-job numbers. */
export async function profileStart(url, { sharedServer = true } = {}) {
  const a = await withClient(url, snapshot);
  return {
    async end(jobs) {
      // The scenario closed its connections: their backends flush table statistics as they exit,
      // within milliseconds; a backend still open (another process's) flushes at most once a second.
      await sleep(300);
      const b = await withClient(url, snapshot);
      return profileDelta(a, b, jobs, { sharedServer });
    },
  };
}

const per = (v, jobs, d = 2) => (jobs > 0 ? Math.round((v / jobs) * 10 ** d) / 10 ** d : undefined);

/** The difference of two snapshots, per job. Exported for the harness test. */
export function profileDelta(a, b, jobs, { sharedServer = true } = {}) {
  const rows = { inserted: b.t.ins - a.t.ins, updated: b.t.upd - a.t.upd, hotUpdated: b.t.hot - a.t.hot, deleted: b.t.del - a.t.del };
  const out = {
    jobs,
    rowsPerJob: Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, per(v, jobs)])),
    walBytesPerJob: per(b.w.lsn - a.w.lsn, jobs, 0),
    walRecordsPerJob: per(b.w.records - a.w.records, jobs),
    walFullPageImagesPerJob: per(b.w.fpi - a.w.fpi, jobs, 3),
    walScope: sharedServer ? "cluster (shared server: includes other clients' writes)" : "cluster (the bench's own server)",
  };
  if (a.statements && b.statements) {
    const deltas = [];
    for (const [id, s] of b.statements) {
      const p = a.statements.get(id);
      const calls = s.calls - (p?.calls ?? 0);
      if (calls <= 0) continue;
      deltas.push({
        query: s.query,
        calls,
        ms: s.ms - (p?.ms ?? 0),
        rows: s.rows - (p?.rows ?? 0),
        blocks: s.blks - (p?.blks ?? 0),
        plans: (s.plans ?? 0) - (p?.plans ?? 0),
        planMs: (s.plan_ms ?? 0) - (p?.plan_ms ?? 0),
      });
    }
    deltas.sort((x, y) => y.ms - x.ms);
    const totalMs = deltas.reduce((n, d) => n + d.ms, 0);
    out.statements = {
      calls: deltas.reduce((n, d) => n + d.calls, 0),
      callsPerJob: per(
        deltas.reduce((n, d) => n + d.calls, 0),
        jobs,
        3,
      ),
      execMs: Math.round(totalMs),
      execUsPerJob: per(totalMs * 1000, jobs),
      top: deltas.slice(0, 5).map((d) => ({
        query: d.query,
        calls: d.calls,
        execMs: Math.round(d.ms * 10) / 10,
        usPerCall: Math.round((d.ms / d.calls) * 1000 * 10) / 10,
        rowsPerCall: Math.round((d.rows / d.calls) * 10) / 10,
        blocksPerCall: Math.round((d.blocks / d.calls) * 10) / 10,
        // Planning is counted only with pg_stat_statements.track_planning (the bench's own server).
        plansPerCall: Math.round((d.plans / d.calls) * 100) / 100,
        planUsPerPlan: d.plans > 0 ? Math.round((d.planMs / d.plans) * 1000 * 10) / 10 : undefined,
      })),
    };
  } else {
    out.statements = { unavailable: 'pg_stat_statements is not preloaded on this server (use --server own)' };
  }
  return out;
}
