/**
 * The rows of the results table (one metric per row, a value per system, which direction is
 * better) and the targets of issue 14, checked against one run. Ratios compare Jobline (Node 24)
 * with the best peer (pg-boss, graphile-worker, BullMQ, each at its best settings) and with the
 * two floors.
 */
export const PEERS = ['pg-boss', 'graphile-worker', 'bullmq'];
/**
 * Jobline's configurations on Node 24: 200 in flight (the memory target's setting) and 2,000 (the
 * floors'). Ratios use the better of the two and the cell names the one used; `jobline@node20`
 * and `jobline@baseline` are shown, never used for a ratio.
 */
export const JOBLINES = ['jobline', 'jobline-max'];
export const FLOORS = ['raw', 'floor-min'];

const get = (path) => (r) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), r);
const phaseP99 = (phase) => (r) => r.phases?.find((p) => p.phase === phase)?.maxWindowP99;

export const METRICS = [
  { scenario: 'enqueue-single', label: 'enqueue one at a time, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'enqueue-single', label: 'enqueue one at a time, call p99 ms', value: get('callLatencyMs.p99'), better: 'lower', digits: 1 },
  { scenario: 'enqueue-bulk', label: 'enqueue bulk, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'drain-1p', label: 'drain, 1 process, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'drain-4p', label: 'drain, 4 processes, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'latency-200', label: 'latency @200/s p50 ms', value: get('latencyMs.p50'), better: 'lower', digits: 1 },
  { scenario: 'latency-200', label: 'latency @200/s p99 ms', value: get('latencyMs.p99'), better: 'lower', digits: 1 },
  { scenario: 'latency-2000', label: 'latency @2,000/s sent per s', value: get('achievedRate'), better: 'higher' },
  { scenario: 'latency-2000', label: 'latency @2,000/s p50 ms', value: get('latencyMs.p50'), better: 'lower', digits: 1 },
  { scenario: 'latency-2000', label: 'latency @2,000/s p99 ms', value: get('latencyMs.p99'), better: 'lower', digits: 1 },
  { scenario: 'steady', label: 'steady state, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'steady', label: 'steady state, enqueue→start p99 ms', value: get('latencyMs.p99'), better: 'lower', digits: 0 },
  { scenario: 'long-tx', label: 'steady + long transaction, jobs/s', value: get('jobsPerSec'), better: 'higher' },
  {
    scenario: 'long-tx',
    label: 'long transaction, dead tuples per 1,000 jobs',
    value: (r) => (r.jobsPerSec > 0 ? (r.deadTuples / (r.jobsPerSec * r.seconds)) * 1000 : undefined),
    better: 'lower',
  },
  {
    scenario: 'long-horizon',
    label: 'long horizon @400/s, clean: worst window p99 ms',
    value: phaseP99('clean'),
    better: 'lower',
    digits: 1,
  },
  {
    scenario: 'long-horizon',
    label: 'long horizon, idle in transaction: worst window p99 ms',
    value: phaseP99('idle-in-transaction'),
    better: 'lower',
    digits: 1,
  },
  {
    scenario: 'long-horizon',
    label: 'long horizon, recovery: worst window p99 ms',
    value: phaseP99('recovery'),
    better: 'lower',
    digits: 1,
  },
  { scenario: 'big-table', label: 'drain, big table (finished + future rows), jobs/s', value: get('jobsPerSec'), better: 'higher' },
  { scenario: 'drain-1p', label: 'worker RSS peak MiB (drain, 1 process)', value: get('rssPeakMiB'), better: 'lower' },
  { scenario: 'dag', label: 'DAG nodes/s', value: get('nodesPerSec'), better: 'higher' },
  { scenario: 'dag', label: 'DAG parent→child p99 ms', value: get('parentChildMs.p99'), better: 'lower', digits: 1 },
];

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

const best = (names, values, better) => {
  const have = names.filter((n) => finite(values[n]));
  return have.length ? have.reduce((a, b) => ((better === 'higher' ? values[b] > values[a] : values[b] < values[a]) ? b : a)) : undefined;
};

/** Table rows: `{ label, better, digits, values: {system: number}, bestPeer, bestJobline, ratioBestPeer, ratioRaw, ratioFloorMin }`. */
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
    return {
      ...m,
      values,
      bestPeer,
      bestJobline,
      ratioBestPeer: bestPeer && ratio(values[bestPeer]),
      ratioRaw: ratio(values.raw),
      ratioFloorMin: ratio(values['floor-min']),
    };
  }).filter((row) => Object.keys(row.values).length);
}

const ok = (r) => r && !r.error && !r.skipped;

/**
 * What limits a Jobline result, from its profile: CPU per job by process (and the ceiling that
 * implies on this many cores), WAL and rows per job, the costliest statement.
 */
export function boundOf(r, cores) {
  if (!ok(r)) return undefined;
  const parts = [];
  const u = r.cpu?.perJobUs;
  if (u) {
    const busy = (u.producer ?? 0) + (u.workers ?? 0) + (u.postgres ?? 0);
    parts.push(`CPU/job: PostgreSQL ${fmt1(u.postgres)} µs, workers ${fmt1(u.workers)} µs, producer ${fmt1(u.producer)} µs`);
    if (busy > 0 && cores) parts.push(`CPU ceiling on ${cores} cores ≈ ${Math.round((cores * 1e6) / busy).toLocaleString('en-US')} jobs/s`);
  } else if (finite(r.workerCpuUsPerJob)) parts.push(`worker CPU/job ${fmt1(r.workerCpuUsPerJob)} µs`);
  const p = r.profile;
  if (p) {
    const rw = p.rowsPerJob;
    if (rw) parts.push(`rows/job ins ${rw.inserted} upd ${rw.updated} (HOT ${rw.hotUpdated}) del ${rw.deleted}`);
    if (finite(p.walBytesPerJob)) parts.push(`WAL ${p.walBytesPerJob} B/job`);
    if (p.statements?.top?.length) {
      const t = p.statements.top[0];
      parts.push(`statements ${p.statements.execUsPerJob} µs/job, costliest: ${t.usPerCall} µs × ${t.calls} "${t.query.slice(0, 60)}…"`);
    }
  }
  if (r.dropped) parts.push(`producer dropped ${r.dropped} sends (reached ${Math.round(r.achievedRate)}/s)`);
  return parts.join('; ');
}
const fmt1 = (v) => (finite(v) ? v.toFixed(1) : '–');

/**
 * Issue 14's targets against one run. Each: `{ target, measured, unit, reference, need, met, bound }`
 * — `need` is the threshold in the unit of `measured` (a ratio target's threshold is computed from
 * the reference measured in the same run); `met` is undefined when a side was not measured.
 */
export function checkTargets(results, { cores } = {}) {
  const v = (scenario, system, path) => {
    const r = results[scenario]?.[system];
    return ok(r) ? (typeof path === 'function' ? path(r) : get(path)(r)) : undefined;
  };
  const bestOf = (names, scenario, path, better) => {
    const values = Object.fromEntries(names.map((n) => [n, v(scenario, n, path)]).filter(([, x]) => finite(x)));
    const name = best(Object.keys(values), values, better);
    return name ? { name, value: values[name] } : undefined;
  };
  const jobline = (scenario, path, better = 'higher') => bestOf(JOBLINES, scenario, path, better);
  const out = [];
  // `path` names the metric, so that a target not met can say what the raw floor (Jobline's own
  // rows, written by hand-batched SQL) reached on it: a floor short of the threshold means the
  // schema's rows, not Jobline's code, bound the target.
  const atLeast = (target, scenario, j, ref, factor, unit = 'jobs/s', path = 'jobsPerSec') =>
    out.push({
      target,
      scenario,
      system: j?.name,
      measured: j?.value,
      unit,
      reference: ref && { ...ref, factor },
      need: ref && ref.value * factor,
      cmp: '≥',
      path,
    });
  const atMost = (target, scenario, j, need, unit, reference, path) =>
    out.push({ target, scenario, system: j?.name, measured: j?.value, unit, reference, need, cmp: '≤', path });

  for (const sc of ['drain-1p', 'drain-4p']) {
    const j = jobline(sc, 'jobsPerSec');
    atLeast(`${sc}: ≥ 1.5× the best peer`, sc, j, bestOf(PEERS, sc, 'jobsPerSec', 'higher'), 1.5);
    const f = v(sc, 'floor-min', 'jobsPerSec');
    atLeast(`${sc}: ≥ 50% of the minimal floor`, sc, j, finite(f) ? { name: 'floor-min', value: f } : undefined, 0.5);
  }
  const bulk = jobline('enqueue-bulk', 'jobsPerSec');
  const gw = v('enqueue-bulk', 'graphile-worker', 'jobsPerSec');
  atLeast(
    "enqueue bulk: ≥ graphile-worker's addJobs",
    'enqueue-bulk',
    bulk,
    finite(gw) ? { name: 'graphile-worker', value: gw } : undefined,
    1,
  );
  const fb = v('enqueue-bulk', 'floor-min', 'jobsPerSec');
  atLeast(
    "enqueue bulk: ≥ 60% of the minimal floor's insert rate",
    'enqueue-bulk',
    bulk,
    finite(fb) ? { name: 'floor-min', value: fb } : undefined,
    0.6,
  );
  atLeast(
    'enqueue one at a time: ≥ 1.2× the best peer',
    'enqueue-single',
    jobline('enqueue-single', 'jobsPerSec'),
    bestOf(PEERS, 'enqueue-single', 'jobsPerSec', 'higher'),
    1.2,
  );

  const l50 = jobline('latency-200', 'latencyMs.p50', 'lower');
  const l99 = jobline('latency-200', 'latencyMs.p99', 'lower');
  atMost('latency @200/s: p50 ≤ 2 ms', 'latency-200', l50, 2, 'ms', undefined, 'latencyMs.p50');
  atMost('latency @200/s: p99 ≤ 5 ms', 'latency-200', l99, 5, 'ms', undefined, 'latencyMs.p99');
  const peer99 = bestOf(PEERS, 'latency-200', 'latencyMs.p99', 'lower');
  atMost("latency @200/s: p99 ≤ the best peer's", 'latency-200', l99, peer99?.value, 'ms', peer99, 'latencyMs.p99');

  // Not saturated: every send made on schedule (none dropped, ≥ 95% of the offered rate), p99 ≤ 50 ms.
  const r2k = results['latency-2000']?.jobline;
  const saturated = ok(r2k) ? r2k.dropped > 0 || r2k.achievedRate < 0.95 * r2k.targetRate : undefined;
  out.push({
    target: '2,000/s one at a time: not saturated (no send dropped, ≥ 95% of the rate sent)',
    scenario: 'latency-2000',
    system: 'jobline',
    measured: ok(r2k) ? r2k.achievedRate : undefined,
    unit: 'sent/s',
    need: ok(r2k) ? 0.95 * r2k.targetRate : undefined,
    cmp: '≥',
    forceMet: saturated === undefined ? undefined : !saturated,
  });
  atMost(
    '2,000/s one at a time: p99 ≤ 50 ms',
    'latency-2000',
    ok(r2k) ? { name: 'jobline', value: r2k.latencyMs?.p99 } : undefined,
    50,
    'ms',
  );

  for (const phase of ['clean', 'idle-in-transaction', 'recovery']) {
    const f = phaseP99(phase);
    const j = ok(results['long-horizon']?.jobline) ? { name: 'jobline', value: f(results['long-horizon'].jobline) } : undefined;
    const peer = bestOf(PEERS, 'long-horizon', f, 'lower');
    atMost(`long horizon @400/s, ${phase}: worst window p99 ≤ the best peer's`, 'long-horizon', j, peer?.value, 'ms', peer);
  }

  const rss = v('drain-1p', 'jobline', 'rssPeakMiB');
  const bossRss = v('drain-1p', 'pg-boss', 'rssPeakMiB');
  atMost(
    "worker RSS at concurrency 200 ≤ 1.2× pg-boss's",
    'drain-1p',
    finite(rss) ? { name: 'jobline', value: rss } : undefined,
    finite(bossRss) ? bossRss * 1.2 : undefined,
    'MiB',
    finite(bossRss) ? { name: 'pg-boss', value: bossRss, factor: 1.2 } : undefined,
  );

  return out.map((t) => {
    const measured = finite(t.measured) && finite(t.need);
    const met =
      t.forceMet !== undefined
        ? finite(t.measured)
          ? t.forceMet && (t.cmp === '≥' ? t.measured >= t.need : t.measured <= t.need)
          : undefined
        : !measured
          ? undefined
          : t.cmp === '≥'
            ? t.measured >= t.need
            : t.measured <= t.need;
    const ratio =
      t.reference && finite(t.measured) && finite(t.reference.value) && t.reference.value !== 0
        ? t.measured / t.reference.value
        : undefined;
    const bound = met === false ? [boundOf(results[t.scenario]?.[t.system ?? 'jobline'], cores), rawFloorBound(t)] : [];
    return { ...t, ratio, met, bound: met === false ? bound.filter(Boolean).join('; ') : undefined };
  });

  function rawFloorBound(t) {
    const raw = t.path && finite(t.need) ? v(t.scenario, 'raw', t.path) : undefined;
    if (!finite(raw)) return undefined;
    const short = t.cmp === '≥' ? raw < t.need : raw > t.need;
    const shown = `${raw.toLocaleString('en-US', { maximumFractionDigits: t.unit === 'ms' ? 1 : 0 })} ${t.unit}`;
    return short
      ? `the raw floor writing the same rows by hand reaches ${shown}, also short of the threshold: the schema's rows bound it`
      : `the raw floor writing the same rows by hand reaches ${shown}, which meets it: Jobline's code is the gap`;
  }
}
