/** The markdown report of one run: machine, settings, the system × scenario table, targets. */
import { checkTargets, tableRows } from './metrics.mjs';

export function fmt(v, digits = 0) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}
const ratioFmt = (r) => (typeof r === 'number' && Number.isFinite(r) ? `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×` : '–');

export function markdownReport(run) {
  const systems = run.systems.map((s) => s.name);
  const label = Object.fromEntries(run.systems.map((s) => [s.name, s.label]));
  const m = run.machine;
  const lines = [];
  lines.push(`# Jobline benchmark — ${run.mode} run ${run.runId}`, '');
  lines.push(
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, PostgreSQL ${m.postgres} (${m.server}). ` +
      `Durable commits: fsync=${m.settings.fsync}, synchronous_commit=${m.settings.synchronous_commit}. ` +
      `Run took ${Math.round(run.durationSeconds / 60)} min (${Math.round(run.durationSeconds)} s). ` +
      `Load average at start ${m.loadAverageAtStart.join(' / ')}, at end ${run.loadAverageAtEnd?.join(' / ') ?? '?'}; ` +
      `${m.otherClientBackendsAtStart} other client connections on the server at start.`,
    '',
  );
  if (run.note) lines.push(`> ${run.note}`, '');
  lines.push('Ratios are Jobline ÷ the other value: for "higher is better" rows above 1 means Jobline is ahead; for "lower is better" rows below 1 means Jobline is ahead. Where a run has both Jobline configurations, the ratios use the better one and name it in brackets (as "best peer" takes the better pg-boss configuration); the RSS row is always the 200-in-flight worker.', '');
  lines.push(`| metric | better | ${systems.map((s) => label[s]).join(' | ')} | Jobline ÷ best peer | Jobline ÷ raw floor |`);
  lines.push(`|---|---|${systems.map(() => '---:').join('|')}|---:|---:|`);
  for (const row of tableRows(run.results, systems)) {
    const cells = systems.map((s) => {
      const v = fmt(row.values[s], row.digits ?? 0);
      return s === row.bestPeer ? `**${v}**` : v;
    });
    // Which Jobline configuration the ratios use, when the run has more than one.
    const jl = row.bestJobline && row.bestJobline !== 'jobline' ? ` [${row.bestJobline}]` : '';
    const bp = row.bestPeer ? `${ratioFmt(row.ratioBestPeer)} (${row.bestPeer})${jl}` : '–';
    const rr = typeof row.ratioRaw === 'number' ? `${ratioFmt(row.ratioRaw)}${jl}` : '–';
    lines.push(`| ${row.label} | ${row.better} | ${cells.join(' | ')} | ${bp} | ${rr} |`);
  }
  lines.push('', 'Bold: the best peer of the row.', '');

  lines.push('## Targets (issue 6)', '', '| target | measured | met |', '|---|---:|:---:|');
  for (const t of checkTargets(run.results)) {
    const v = typeof t.measured === 'number' && Number.isFinite(t.measured) ? (t.unit === '×' ? ratioFmt(t.measured) : `${t.measured.toFixed(1)} ${t.unit}`) : '–';
    lines.push(`| ${t.target} | ${v} | ${t.met === undefined ? 'not measured' : t.met ? 'yes' : '**no**'} |`);
  }
  lines.push('');

  const cpuRows = [];
  for (const sc of ['drain-1p', 'steady']) {
    for (const s of systems) {
      const c = run.results[sc]?.[s]?.cpu;
      if (!c?.perJobUs) continue;
      const u = c.perJobUs;
      cpuRows.push(`| ${sc} | ${label[s]} | ${fmt(u.producer, 1)} | ${fmt(u.workers, 1)} | ${fmt(u.postgres, 1)} | ${fmt(u.other, 1)} |`);
    }
  }
  if (cpuRows.length) {
    lines.push(
      '## CPU per job (µs)',
      '',
      'Producer = this process; workers = the worker processes; PostgreSQL = the backends serving the system\'s database (from /proc); other = everything else the machine ran meanwhile (PostgreSQL\'s WAL writer, checkpointer and autovacuum, and other people\'s work on a shared machine).',
      '',
      '| scenario | system | producer | workers | PostgreSQL | other |',
      '|---|---|---:|---:|---:|---:|',
      ...cpuRows,
      '',
    );
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

  lines.push('## Settings per system', '');
  for (const s of run.systems) lines.push(`- **${s.label}**: ${s.settings}`);
  lines.push('', '## Parameters', '', '```json', JSON.stringify(run.params, null, 2), '```', '');
  lines.push('## PostgreSQL settings', '', '| setting | value |', '|---|---|');
  for (const [k, v] of Object.entries(m.settings)) lines.push(`| ${k} | ${v} |`);
  lines.push('');
  return lines.join('\n');
}
