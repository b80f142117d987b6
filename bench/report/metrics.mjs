/**
 * The rows of the results table: one metric per row, a value per system, and which direction is
 * better. Ratios compare Jobline with the best peer (pg-boss, graphile-worker, BullMQ) and with the
 * raw-SQL floor.
 */
export const PEERS = ['pg-boss', 'pg-boss-max', 'graphile-worker', 'bullmq'];
/**
 * Jobline's configurations: 200 in flight (the memory target's setting) and 2,000 (the raw
 * floor's). The ratio columns use the better of the two, as "best peer" takes the better
 * pg-boss configuration; the cell names the one used.
 */
export const JOBLINES = ['jobline', 'jobline-max'];

const get = (path) => (r) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), r);

export const METRICS = [
  { scenario: 'enqueue-single', label: 'enqueue one at a time, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'enqueue-single', label: 'enqueue one at a time, call p99 ms', value: get('callLatencyMs.p99'), better: 'lower', digits: 1 },
  { scenario: 'enqueue-bulk', label: 'enqueue bulk, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'drain-1p', label: 'drain, 1 process, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'drain-4p', label: 'drain, 4 processes, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'latency-200', label: 'latency @200/s p50 ms', value: get('latencyMs.p50'), better: 'lower', digits: 1 },
  { scenario: 'latency-200', label: 'latency @200/s p95 ms', value: get('latencyMs.p95'), better: 'lower', digits: 1 },
  { scenario: 'latency-200', label: 'latency @200/s p99 ms', value: get('latencyMs.p99'), better: 'lower', digits: 1 },
  { scenario: 'latency-2000', label: 'latency @2,000/s p50 ms', value: get('latencyMs.p50'), better: 'lower', digits: 1 },
  { scenario: 'latency-2000', label: 'latency @2,000/s p95 ms', value: get('latencyMs.p95'), better: 'lower', digits: 1 },
  { scenario: 'latency-2000', label: 'latency @2,000/s p99 ms', value: get('latencyMs.p99'), better: 'lower', digits: 1 },
  { scenario: 'steady', label: 'steady state, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'steady', label: 'steady state, enqueue→start p99 ms', value: get('latencyMs.p99'), better: 'lower', digits: 0 },
  { scenario: 'long-tx', label: 'steady + long transaction, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'long-tx', label: 'long transaction, dead tuples at end', value: get('deadTuples'), better: 'lower' },
  {
    scenario: 'long-tx',
    label: 'long transaction, dead tuples per 1,000 jobs',
    value: (r) => (r.jobsPerSec > 0 ? (r.deadTuples / (r.jobsPerSec * r.seconds)) * 1000 : undefined),
    better: 'lower',
  },
  { scenario: 'big-table', label: 'drain, big table (finished + future rows), jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'drain-1p', label: 'worker RSS peak MiB (drain, 1 process)', value: get('rssPeakMiB'), better: 'lower' },
  { scenario: 'dag', label: 'DAG nodes/s', value: get('nodesPerSec'), better: 'higher' },
  { scenario: 'dag', label: 'DAG parent→child p50 ms', value: get('parentChildMs.p50'), better: 'lower', digits: 1 },
  { scenario: 'dag', label: 'DAG parent→child p99 ms', value: get('parentChildMs.p99'), better: 'lower', digits: 1 },
];

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

const best = (names, values, better) => {
  const have = names.filter((n) => finite(values[n]));
  return have.length ? have.reduce((a, b) => ((better === 'higher' ? values[b] > values[a] : values[b] < values[a]) ? b : a)) : undefined;
};

/** Table rows: `{ label, better, digits, values: {system: number}, bestPeer, bestJobline, ratioBestPeer, ratioRaw }`. */
export function tableRows(results, systems) {
  return METRICS.map((m) => {
    const values = {};
    for (const s of systems) {
      const r = results[m.scenario]?.[s];
      const v = r && !r.error && !r.skipped ? m.value(r) : undefined;
      if (finite(v)) values[s] = v;
    }
    const bestPeer = best(PEERS, values, m.better);
    // Memory is the 200-in-flight worker's (the target's setting), never the best of the two.
    const bestJobline = m.label.startsWith('worker RSS') ? 'jobline' : best(JOBLINES, values, m.better);
    const j = bestJobline && values[bestJobline];
    const ratio = (ref) => (finite(j) && finite(ref) && ref !== 0 ? j / ref : undefined);
    return { ...m, values, bestPeer, bestJobline, ratioBestPeer: bestPeer && ratio(values[bestPeer]), ratioRaw: ratio(values.raw) };
  }).filter((row) => Object.keys(row.values).length);
}

/** The targets, checked against one run's results. */
export function checkTargets(results) {
  const v = (scenario, system, path) => {
    const r = results[scenario]?.[system];
    return r && !r.error && !r.skipped ? get(path)(r) : undefined;
  };
  const ratio = (a, b) => (finite(a) && finite(b) && b !== 0 ? a / b : undefined);
  const out = [];
  for (const sc of ['drain-1p', 'drain-4p']) {
    const j = v(sc, 'jobline', 'jobsPerSec');
    out.push({ target: `${sc}: Jobline ≥ 5× graphile-worker`, measured: ratio(j, v(sc, 'graphile-worker', 'jobsPerSec')), min: 5, unit: '×' });
    out.push({ target: `${sc}: Jobline ≥ 10× pg-boss`, measured: ratio(j, v(sc, 'pg-boss', 'jobsPerSec')), min: 10, unit: '×' });
    // The floor holds 2,000 jobs in flight per process; Jobline is compared at the same number.
    const jMax = v(sc, 'jobline-max', 'jobsPerSec');
    out.push({
      target: `${sc}: Jobline ≥ 50% of the raw floor${finite(jMax) ? ' (both 2,000 in flight)' : ''}`,
      measured: ratio(finite(jMax) ? jMax : j, v(sc, 'raw', 'jobsPerSec')),
      min: 0.5,
      unit: '×',
    });
  }
  out.push({ target: 'latency @200/s: p50 ≤ 3 ms', measured: v('latency-200', 'jobline', 'latencyMs.p50'), max: 3, unit: 'ms' });
  out.push({ target: 'latency @200/s: p99 ≤ 10 ms', measured: v('latency-200', 'jobline', 'latencyMs.p99'), max: 10, unit: 'ms' });
  out.push({
    target: 'big table: drain within 20% of the empty table',
    measured: ratio(v('big-table', 'jobline', 'jobsPerSec'), v('drain-1p', 'jobline', 'jobsPerSec')),
    min: 0.8,
    unit: '×',
  });
  out.push({
    target: 'long transaction: steady state within 30% of without',
    measured: ratio(v('long-tx', 'jobline', 'jobsPerSec'), v('steady', 'jobline', 'jobsPerSec')),
    min: 0.7,
    unit: '×',
  });
  // "MB" read as 10^6 bytes (the stricter reading); the table's RSS row is in MiB.
  out.push({ target: 'worker RSS ≤ 150 MB (10^6 B) at concurrency 200', measured: v('drain-1p', 'jobline', 'rssPeakMiB') * 1.048576, max: 150, unit: 'MB' });
  return out.map((t) => ({
    ...t,
    met: !finite(t.measured) ? undefined : t.min !== undefined ? t.measured >= t.min : t.measured <= t.max,
  }));
}
