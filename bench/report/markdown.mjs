/** The markdown report of one run: versions, settings, the system × scenario table, targets, where the time goes. */
import { checkTargets, tableRows } from './metrics.mjs';

export function fmt(v, digits = 0) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}
const ratioFmt = (r) => (typeof r === 'number' && Number.isFinite(r) ? `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×` : '–');
const PROFILED = [
  'enqueue-single',
  'enqueue-bulk',
  'drain-1p',
  'drain-4p',
  'latency-200',
  'latency-2000',
  'steady',
  'long-tx',
  'long-horizon',
  'big-table',
];

export function markdownReport(run) {
  const systems = run.systems.map((s) => s.name);
  const label = Object.fromEntries(run.systems.map((s) => [s.name, s.label]));
  const m = run.machine;
  const lines = [];
  lines.push(`# Jobline benchmark — ${run.mode} run ${run.runId}`, '');
  lines.push(
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}. PostgreSQL ${m.postgres} (${m.server}). ` +
      `Harness on Node ${m.node}; systems on ${[...new Set(run.systems.map((s) => s.node).filter(Boolean))].map((n) => `Node ${n}`).join(' and ')} (per system below). ` +
      `Durable commits: fsync=${m.settings.fsync}, synchronous_commit=${m.settings.synchronous_commit}. ` +
      `Run took ${Math.round(run.durationSeconds / 60)} min (${Math.round(run.durationSeconds)} s${run.estimatedSeconds ? `; estimated ${Math.round(run.estimatedSeconds)} s` : ''}). ` +
      `Load average at start ${m.loadAverageAtStart.join(' / ')}, at end ${run.loadAverageAtEnd?.join(' / ') ?? '?'}; ` +
      `${m.otherClientBackendsAtStart} other client connections on the server at start.`,
    '',
  );
  if (run.note) lines.push(`> ${run.note}`, '');

  lines.push(
    '## Systems: versions, Node, settings',
    '',
    '| system | version | Node | jobs in flight per process | settings |',
    '|---|---|---|---:|---|',
  );
  for (const s of run.systems)
    lines.push(`| ${s.label} (\`${s.name}\`) | ${s.version ?? '–'} | ${s.node ?? '–'} | ${fmt(s.inFlight)} | ${s.settings} |`);
  lines.push('');

  lines.push(
    'Ratios are Jobline (Node 24) ÷ the other value: for "higher is better" rows above 1 means Jobline is ahead; for "lower is better" rows below 1 means Jobline is ahead. Where both Jobline configurations ran, the ratios use the better one and name it in brackets; the RSS row is always the 200-in-flight worker. `jobline@node20` and `jobline@baseline` are shown, not used in ratios.',
    '',
  );
  lines.push(`| metric | better | ${systems.map((s) => label[s]).join(' | ')} | Jobline ÷ best peer | ÷ raw floor | ÷ minimal floor |`);
  lines.push(`|---|---|${systems.map(() => '---:').join('|')}|---:|---:|---:|`);
  for (const row of tableRows(run.results, systems)) {
    const cells = systems.map((s) => {
      const v = fmt(row.values[s], row.digits ?? 0);
      return s === row.bestPeer ? `**${v}**` : v;
    });
    const jl = row.bestJobline && row.bestJobline !== 'jobline' ? ` [${row.bestJobline}]` : '';
    const bp = row.bestPeer ? `${ratioFmt(row.ratioBestPeer)} (${row.bestPeer})${jl}` : '–';
    const rr = typeof row.ratioRaw === 'number' ? `${ratioFmt(row.ratioRaw)}${jl}` : '–';
    const rf = typeof row.ratioFloorMin === 'number' ? `${ratioFmt(row.ratioFloorMin)}${jl}` : '–';
    lines.push(`| ${row.label} | ${row.better} | ${cells.join(' | ')} | ${bp} | ${rr} | ${rf} |`);
  }
  lines.push('', 'Bold: the best peer of the row.', '');

  lines.push(
    '## Targets (issue 14)',
    '',
    'Same run, same machine. "needed" is the threshold computed from the reference measured in this run. A target not met shows what bounds Jobline there, from its profile (the target stays as written). Targets not met do not fail the run; a scenario that throws does.',
    '',
    '| target | Jobline | reference | needed | ratio to reference | met | measured bound (not met) |',
    '|---|---:|---|---:|---:|:---:|---|',
  );
  for (const t of checkTargets(run.results, { cores: m.cores })) {
    const unit = t.unit === 'jobs/s' || t.unit === 'sent/s' ? ` ${t.unit}` : ` ${t.unit}`;
    const val = (x) => (typeof x === 'number' && Number.isFinite(x) ? `${fmt(x, t.unit === 'ms' ? 1 : 0)}${unit}` : '–');
    const who = t.system && t.system !== 'jobline' ? ` [${t.system}]` : '';
    const ref = t.reference
      ? `${t.reference.factor && t.reference.factor !== 1 ? `${t.reference.factor} × ` : ''}${t.reference.name} ${val(t.reference.value)}`
      : '–';
    const met = t.met === undefined ? 'not measured' : t.met ? 'met' : '**not met**';
    lines.push(
      `| ${t.target} | ${val(t.measured)}${who} | ${ref} | ${t.cmp} ${val(t.need)} | ${ratioFmt(t.ratio)} | ${met} | ${t.bound ?? ''} |`,
    );
  }
  lines.push('');

  lines.push(
    '## Where the time goes (per job, per scenario)',
    '',
    `Rows: inserted / updated (of them HOT) / deleted in the system's database (pg_stat_user_tables). WAL: bytes and records from the server's WAL position — ${run.sharedServer === false ? "the bench's own server, so only this run's writes" : "a shared server, so other clients' writes are included (use `--server own`)"}. Statements: calls and execution time from pg_stat_statements${run.machine.settings.shared_preload_libraries?.includes('pg_stat_statements') ? '' : ' — **unavailable**: the server does not preload pg_stat_statements (`--server own` does)'}. CPU: PostgreSQL backends of the system's database and the worker processes (from /proc and process.cpuUsage), the producer (the runner process); drains, steady states and enqueues.`,
    '',
    '| scenario | system | rows ins / upd (HOT) / del | WAL B | WAL records | statements | statement exec µs | PostgreSQL CPU µs | workers CPU µs | producer CPU µs |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const sc of PROFILED) {
    for (const s of systems) {
      const r = run.results[sc]?.[s];
      if (!r || r.error || !r.profile) continue;
      const p = r.profile;
      const rw = p.rowsPerJob ?? {};
      const u = r.cpu?.perJobUs ?? {};
      const workers = u.workers ?? r.workerCpuUsPerJob;
      lines.push(
        `| ${sc} | ${label[s]} | ${fmt(rw.inserted, 2)} / ${fmt(rw.updated, 2)} (${fmt(rw.hotUpdated, 2)}) / ${fmt(rw.deleted, 2)} | ${fmt(p.walBytesPerJob)} | ${fmt(p.walRecordsPerJob, 1)} | ${fmt(p.statements?.callsPerJob, 3)} | ${fmt(p.statements?.execUsPerJob, 1)} | ${fmt(u.postgres, 1)} | ${fmt(workers, 1)} | ${fmt(u.producer ?? r.producerCpuUsPerJob, 1)} |`,
      );
    }
  }
  lines.push('');
  const tops = [];
  for (const sc of ['drain-1p', 'enqueue-bulk', 'enqueue-single', 'latency-200']) {
    for (const s of systems.filter((x) => ['jobline', 'floor-min', 'raw'].includes(x))) {
      const top = run.results[sc]?.[s]?.profile?.statements?.top;
      if (!top?.length) continue;
      for (const t of top.slice(0, 3))
        tops.push(
          `| ${sc} | ${label[s]} | ${t.calls} | ${fmt(t.usPerCall, 1)} | ${fmt(t.rowsPerCall, 1)} | ${fmt(t.blocksPerCall, 1)} | ${fmt(t.plansPerCall, 2)} (${fmt(t.planUsPerPlan, 1)}) | \`${t.query.replace(/\|/g, '\\|')}\` |`,
        );
    }
  }
  if (tops.length)
    lines.push(
      '### Costliest statements',
      '',
      '| scenario | system | calls | µs per call | rows per call | buffers per call | plans per call (µs per plan) | statement |',
      '|---|---|---:|---:|---:|---:|---:|---|',
      ...tops,
      '',
    );

  const lh = systems.filter((s) => run.results['long-horizon']?.[s]?.phases);
  if (lh.length) {
    lines.push(
      '## Long horizon: p99 per window (ms)',
      '',
      `| system | ${['clean', 'idle-in-transaction', 'recovery'].map((p) => `${p}: worst window p99 / median p50`).join(' | ')} | dropped sends |`,
      '|---|---:|---:|---:|---:|',
    );
    for (const s of lh) {
      const r = run.results['long-horizon'][s];
      lines.push(
        `| ${label[s]} | ${r.phases.map((p) => `${fmt(p.maxWindowP99, 1)} / ${fmt(p.medianWindowP50, 1)}`).join(' | ')} | ${r.dropped ?? 0} |`,
      );
    }
    lines.push('');
  }

  const problems = [];
  for (const [scenario, bySystem] of Object.entries(run.results)) {
    for (const [s, r] of Object.entries(bySystem)) {
      if (r.error) problems.push(`- ${scenario} / ${s}: error — ${r.error.split('\n')[0]}`);
      else if (r.skipped) problems.push(`- ${scenario} / ${s}: skipped — ${r.skipped}`);
      if (r.dropped) problems.push(`- ${scenario} / ${s}: the producer could not keep the rate, ${r.dropped} sends dropped`);
    }
  }
  if (problems.length) lines.push('## Errors and skips', '', ...problems, '');

  lines.push('## Parameters', '', '```json', JSON.stringify(run.params, null, 2), '```', '');
  lines.push('## PostgreSQL settings', '', '| setting | value |', '|---|---|');
  for (const [k, v] of Object.entries(m.settings)) lines.push(`| ${k} | ${v} |`);
  lines.push('');
  return lines.join('\n');
}
