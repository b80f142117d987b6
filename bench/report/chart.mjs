/**
 * The chart of the results table: one group per metric, one bar per system, each row scaled to
 * its largest value. Built as primitives (rectangles and text) rendered to SVG, then to PNG with
 * rsvg-convert when it is installed (Debian: librsvg2-bin), else with the built-in renderer.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tableRows } from './metrics.mjs';
import { fmt } from './markdown.mjs';
import { renderPng } from './png.mjs';

const COLORS = {
  jobline: '#1f77b4',
  'jobline-max': '#aec7e8',
  'jobline@node20': '#17becf',
  'jobline@baseline': '#9467bd',
  raw: '#7f7f7f',
  'floor-min': '#bcbd22',
  'pg-boss': '#ff7f0e',
  'graphile-worker': '#2ca02c',
  bullmq: '#d62728',
};
const W = 1200;
const LABEL_W = 430;
const BAR_H = 13;
const GAP = 3;

export function chartModel(run) {
  const systems = run.systems.map((s) => s.name);
  const rows = tableRows(run.results, systems);
  const items = [];
  const text = (x, y, t, o = {}) => items.push({ type: 'text', x, y, text: t, size: 13, fill: '#222222', ...o });
  const nodes = [...new Set(run.systems.map((s) => s.node).filter(Boolean))].join(' / ');
  text(
    20,
    32,
    `Jobline benchmark ${run.runId}: ${run.machine.cores} cores, PostgreSQL ${run.machine.postgres.split(' ')[0]}, Node ${nodes || run.machine.node}, durable commits`,
    { size: 18 },
  );
  let lx = 20;
  // Legend: label, plus the version for the peers (Jobline's carries a commit and is in the report).
  let ly = 48;
  for (const s of run.systems) {
    const name = s.version && !s.name.startsWith('jobline') ? `${s.label} ${s.version}` : s.label;
    const w = 40 + name.length * 8.5;
    if (lx + w > W - 20) {
      lx = 20;
      ly += 22;
    }
    items.push({ type: 'rect', x: lx, y: ly, w: 14, h: 14, fill: COLORS[s.name] ?? '#999999' });
    text(lx + 20, ly + 12, name);
    lx += w;
  }
  let y = ly + 36;
  const barMax = W - LABEL_W - 130;
  for (const row of rows) {
    const present = systems.filter((s) => row.values[s] !== undefined);
    const max = Math.max(...present.map((s) => row.values[s]));
    const groupH = present.length * (BAR_H + GAP);
    text(20, y + groupH / 2 + 5, row.label);
    text(20, y + groupH / 2 + 21, row.better === 'higher' ? 'higher is better' : 'lower is better', { size: 11, fill: '#777777' });
    present.forEach((s, i) => {
      const v = row.values[s];
      const w = max > 0 ? Math.max(1, (v / max) * barMax) : 1;
      const by = y + i * (BAR_H + GAP);
      items.push({ type: 'rect', x: LABEL_W, y: by, w, h: BAR_H, fill: COLORS[s] ?? '#999999' });
      text(LABEL_W + w + 6, by + BAR_H - 2, fmt(v, row.digits ?? 0), { size: 12 });
    });
    y += Math.max(groupH, 34) + 14;
    items.push({ type: 'rect', x: 20, y: y - 8, w: W - 40, h: 1, fill: '#dddddd' });
  }
  return { width: W, height: y + 10, background: '#ffffff', items };
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function toSvg({ width, height, background, items }) {
  const body = items
    .map((it) =>
      it.type === 'rect'
        ? `<rect x="${it.x}" y="${it.y}" width="${it.w}" height="${it.h}" fill="${it.fill}"/>`
        : `<text x="${it.x}" y="${it.y}" font-size="${it.size}" fill="${it.fill}"${it.anchor ? ` text-anchor="${it.anchor}"` : ''}>${esc(it.text)}</text>`,
    )
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="${background}"/>
${body}
</svg>
`;
}

/** Writes `<base>.svg` and `<base>.png`; returns which renderer made the PNG. */
export function writeChart(run, base) {
  const model = chartModel(run);
  writeFileSync(`${base}.svg`, toSvg(model));
  const r = spawnSync('rsvg-convert', ['-f', 'png', '-o', `${base}.png`, `${base}.svg`], { stdio: 'ignore' });
  if (r.status === 0) return 'rsvg-convert';
  writeFileSync(`${base}.png`, renderPng(model));
  return 'built-in';
}
