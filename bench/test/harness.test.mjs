// Unit tests of the harness's own logic (no database): node --test bench/test/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, inflateSync } from 'node:zlib';
import { Reservoir, mergeLatency, percentile, summarise } from '../lib/stats.mjs';
import { renderPng } from '../report/png.mjs';
import { chartModel, toSvg } from '../report/chart.mjs';
import { checkTargets, tableRows } from '../report/metrics.mjs';
import { markdownReport } from '../report/markdown.mjs';
import { layeredDag } from '../scenarios/dag.mjs';
import { windowStats } from '../scenarios/long-horizon.mjs';
import { profileDelta } from '../lib/pg-profile.mjs';

test('percentiles are nearest-rank', () => {
  const s = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(s, 50), 50);
  assert.equal(percentile(s, 99), 99);
  assert.equal(percentile(s, 100), 100);
  assert.equal(percentile([], 50), undefined);
  assert.deepEqual(summarise([3, 1, 2]), { count: 3, p50: 2, p95: 3, p99: 3, max: 3 });
});

test('the reservoir keeps at most its cap but counts everything', () => {
  const r = new Reservoir(10);
  for (let i = 0; i < 1000; i++) r.add(i);
  assert.equal(r.samples.length, 10);
  assert.equal(r.count, 1000);
  assert.equal(r.max, 999);
  const m = mergeLatency([
    { samples: [1, 2], count: 2, max: 2 },
    { samples: [3], count: 5, max: 9 },
  ]);
  assert.equal(m.count, 7);
  assert.equal(m.max, 9);
});

test('the built-in PNG renderer writes a valid PNG', () => {
  const png = renderPng({
    width: 40,
    height: 20,
    items: [
      { type: 'rect', x: 0, y: 0, w: 10, h: 10, fill: '#ff0000' },
      { type: 'text', x: 12, y: 12, text: 'Hi→1', size: 13 },
    ],
  });
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  const chunks = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('ascii', off + 4, off + 8);
    const body = png.subarray(off + 8, off + 8 + len);
    assert.equal(png.readUInt32BE(off + 8 + len), crc32(png.subarray(off + 4, off + 8 + len)), `CRC of ${type}`);
    chunks.push({ type, body });
    off += 12 + len;
  }
  assert.deepEqual(
    chunks.map((c) => c.type),
    ['IHDR', 'IDAT', 'IEND'],
  );
  assert.equal(chunks[0].body.readUInt32BE(0), 40);
  assert.equal(chunks[0].body.readUInt32BE(4), 20);
  const raw = inflateSync(chunks[1].body);
  assert.equal(raw.length, (40 * 3 + 1) * 20);
  assert.deepEqual([...raw.subarray(1, 4)], [255, 0, 0]); // top-left pixel is the red rectangle
});

const fakeRun = {
  runId: 'test',
  mode: 'quick',
  durationSeconds: 60,
  machine: {
    cores: 2,
    cpuModel: 'x',
    memoryGiB: 1,
    os: 'linux',
    node: 'v20',
    postgres: '15.2',
    server: 'local',
    settings: { fsync: 'on', synchronous_commit: 'on' },
    loadAverageAtStart: [0, 0, 0],
    otherClientBackendsAtStart: 0,
  },
  params: {},
  systems: ['jobline', 'raw', 'floor-min', 'pg-boss', 'graphile-worker'].map((name) => ({
    name,
    label: name,
    settings: '',
    node: 'v24.22.3',
  })),
  results: {
    'drain-1p': {
      jobline: { jobsPerSec: 20000, rssPeakMiB: 100, cpu: { perJobUs: { producer: 1, workers: 20, postgres: 79 } } },
      raw: { jobsPerSec: 30000 },
      'floor-min': { jobsPerSec: 60000 },
      'pg-boss': { jobsPerSec: 25000, rssPeakMiB: 80 },
      'graphile-worker': { jobsPerSec: 2500 },
    },
    'latency-200': { jobline: { latencyMs: { p50: 2, p95: 4, p99: 12 } }, 'graphile-worker': { latencyMs: { p50: 3, p95: 5, p99: 9 } } },
    'latency-2000': { jobline: { targetRate: 2000, achievedRate: 1990, dropped: 0, latencyMs: { p50: 3, p99: 20 } } },
    'enqueue-bulk': { jobline: { jobsPerSec: 50000 }, 'graphile-worker': { jobsPerSec: 90000 }, 'floor-min': { jobsPerSec: 80000 } },
    'long-horizon': {
      jobline: {
        phases: [
          { phase: 'clean', maxWindowP99: 10 },
          { phase: 'idle-in-transaction', maxWindowP99: 30 },
          { phase: 'recovery', maxWindowP99: 12 },
        ],
      },
      'graphile-worker': {
        phases: [
          { phase: 'clean', maxWindowP99: 16 },
          { phase: 'idle-in-transaction', maxWindowP99: 17 },
          { phase: 'recovery', maxWindowP99: 16 },
        ],
      },
    },
    'drain-4p': { jobline: { error: 'boom' } },
  },
};

test('table rows pick the best peer by direction and compute ratios to both floors', () => {
  const rows = tableRows(
    fakeRun.results,
    fakeRun.systems.map((s) => s.name),
  );
  const drain = rows.find((r) => r.label.startsWith('drain, 1 process'));
  assert.equal(drain.bestPeer, 'pg-boss');
  assert.equal(drain.ratioBestPeer, 0.8);
  assert.equal(drain.ratioRaw, 20000 / 30000);
  assert.equal(drain.ratioFloorMin, 20000 / 60000);
  const p99 = rows.find((r) => r.label === 'latency @200/s p99 ms');
  assert.equal(p99.bestPeer, 'graphile-worker');
  assert.ok(Math.abs(p99.ratioBestPeer - 12 / 9) < 1e-9);
  assert.ok(!rows.some((r) => r.label.startsWith('drain, 4')), 'errored results make no row');
});

test("targets are issue 14's, computed against the same run's references, with a bound when not met", () => {
  const t = Object.fromEntries(checkTargets(fakeRun.results, { cores: 2 }).map((x) => [x.target, x]));
  const d = t['drain-1p: ≥ 1.5× the best peer'];
  assert.equal(d.reference.name, 'pg-boss');
  assert.equal(d.need, 37500);
  assert.equal(d.ratio, 0.8);
  assert.equal(d.met, false);
  // The bound names what limits Jobline: CPU per job and the ceiling it implies on 2 cores (2e6 / 100 µs).
  assert.match(d.bound, /PostgreSQL 79\.0 µs, workers 20\.0 µs/);
  assert.match(d.bound, /ceiling on 2 cores ≈ 20,000 jobs\/s/);
  // …and whether the schema's rows or Jobline's code is the gap: the raw floor (same rows) made 30,000 < 37,500.
  assert.match(d.bound, /raw floor writing the same rows by hand reaches 30,000 jobs\/s, also short of the threshold/);
  assert.match(t['drain-1p: ≥ 50% of the minimal floor'].bound, /reaches 30,000 jobs\/s, which meets it: Jobline's code is the gap/);
  assert.equal(t['drain-1p: ≥ 50% of the minimal floor'].need, 30000);
  assert.equal(t['drain-1p: ≥ 50% of the minimal floor'].met, false);
  assert.equal(t["enqueue bulk: ≥ graphile-worker's addJobs"].met, false);
  assert.equal(t["enqueue bulk: ≥ 60% of the minimal floor's insert rate"].met, true);
  assert.equal(t['latency @200/s: p50 ≤ 2 ms'].met, true);
  assert.equal(t['latency @200/s: p99 ≤ 5 ms'].met, false);
  assert.equal(t["latency @200/s: p99 ≤ the best peer's"].met, false);
  assert.equal(t['2,000/s one at a time: not saturated (no send dropped, ≥ 95% of the rate sent)'].met, true);
  assert.equal(t['2,000/s one at a time: p99 ≤ 50 ms'].met, true);
  assert.equal(t["long horizon @400/s, clean: worst window p99 ≤ the best peer's"].met, true);
  assert.equal(t["long horizon @400/s, idle-in-transaction: worst window p99 ≤ the best peer's"].met, false);
  assert.equal(t["worker RSS at concurrency 200 ≤ 1.2× pg-boss's"].need, 96);
  assert.equal(t["worker RSS at concurrency 200 ≤ 1.2× pg-boss's"].met, false);
  assert.equal(t['drain-4p: ≥ 1.5× the best peer'].met, undefined);
  assert.equal(t['enqueue one at a time: ≥ 1.2× the best peer'].met, undefined);
  const md = markdownReport(fakeRun);
  assert.match(
    md,
    /\| drain, 1 process, jobs\/s \| higher \| 20,000 \| 30,000 \| 60,000 \| \*\*25,000\*\* \| 2,500 \| 0\.80× \(pg-boss\) \| 0\.67× \| 0\.33× \|/,
  );
  assert.match(
    md,
    /\| drain-1p: ≥ 1\.5× the best peer \| 20,000 jobs\/s \| 1\.5 × pg-boss 25,000 jobs\/s \| ≥ 37,500 jobs\/s \| 0\.80× \| \*\*not met\*\* \| CPU/,
  );
  assert.match(md, /drain-4p \/ jobline: error — boom/);
  assert.match(md, /\| jobline \| 10\.0 \/ – \| 30\.0 \/ – \| 12\.0 \/ – \| 0 \|/);
  assert.match(toSvg(chartModel(fakeRun)), /^<svg /);
});

test('a saturated 2,000/s run fails that target even with a low p99', () => {
  const results = { 'latency-2000': { jobline: { targetRate: 2000, achievedRate: 1500, dropped: 8000, latencyMs: { p50: 3, p99: 20 } } } };
  const t = checkTargets(results).find((x) => x.target.startsWith('2,000/s one at a time: not saturated'));
  assert.equal(t.met, false);
  assert.match(t.bound, /dropped 8000 sends/);
});

test('with both Jobline configurations the ratios use the better one and say which; RSS stays the 200-in-flight worker', () => {
  const results = {
    'drain-1p': {
      jobline: { jobsPerSec: 12000, rssPeakMiB: 100 },
      'jobline-max': { jobsPerSec: 16000, rssPeakMiB: 140 },
      raw: { jobsPerSec: 30000 },
      'graphile-worker': { jobsPerSec: 2000 },
    },
  };
  const rows = tableRows(results, ['jobline', 'jobline-max', 'raw', 'graphile-worker']);
  const drain = rows.find((r) => r.label.startsWith('drain, 1 process'));
  assert.equal(drain.bestJobline, 'jobline-max');
  assert.equal(drain.ratioBestPeer, 8);
  const rss = rows.find((r) => r.label.startsWith('worker RSS'));
  assert.equal(rss.bestJobline, 'jobline');
  assert.equal(rss.ratioRaw, undefined);
  const t = Object.fromEntries(checkTargets(results).map((x) => [x.target, x]));
  assert.equal(t['drain-1p: ≥ 1.5× the best peer'].measured, 16000);
  assert.equal(t['drain-1p: ≥ 1.5× the best peer'].system, 'jobline-max');
  assert.equal(t['drain-1p: ≥ 1.5× the best peer'].met, true);
});

test('long-horizon windows: per-window percentiles, phases by window start, worst p99 per phase', () => {
  const timed = [];
  // 0–2 s clean at 1 ms, 2–4 s idle-in-transaction at 10 ms (one 50 ms outlier), 4–5 s recovery at 2 ms.
  for (let ms = 0; ms < 5000; ms += 10) timed.push(1000 + ms, ms < 2000 ? 1 : ms < 4000 ? (ms === 3000 ? 50 : 10) : 2);
  const w = windowStats(timed, 1000, 1000, [
    { phase: 'clean', fromS: 0, toS: 2 },
    { phase: 'idle-in-transaction', fromS: 2, toS: 4 },
    { phase: 'recovery', fromS: 4, toS: 5 },
  ]);
  assert.equal(w.windows.length, 5);
  assert.deepEqual(
    w.windows.map((x) => x.count),
    [100, 100, 100, 100, 100],
  );
  assert.deepEqual(
    w.phases.map((p) => [p.phase, p.windows, p.maxWindowP99]),
    [
      ['clean', 2, 1],
      ['idle-in-transaction', 2, 10],
      ['recovery', 1, 2],
    ],
  );
  assert.equal(w.windows[3].max, 50);
});

test('the PostgreSQL profile is a per-job delta; statements are unavailable without pg_stat_statements', () => {
  const snap = (ins, upd, hot, del, lsn, st) => ({ t: { ins, upd, hot, del }, w: { lsn, records: lsn / 100, fpi: 0 }, statements: st });
  const q = (calls, ms) =>
    new Map([['1', { query: 'update x', calls, ms, rows: calls * 500, blks: calls * 10, plans: calls, plan_ms: calls / 2 }]]);
  const p = profileDelta(snap(0, 0, 0, 0, 1000, q(2, 10)), snap(3000, 2000, 500, 0, 1_001_000, q(12, 110)), 1000, { sharedServer: false });
  assert.deepEqual(p.rowsPerJob, { inserted: 3, updated: 2, hotUpdated: 0.5, deleted: 0 });
  assert.equal(p.walBytesPerJob, 1000);
  assert.equal(p.statements.calls, 10);
  assert.equal(p.statements.execUsPerJob, 100);
  assert.equal(p.statements.top[0].usPerCall, 10000);
  assert.equal(p.statements.top[0].plansPerCall, 1);
  assert.equal(p.statements.top[0].planUsPerPlan, 500);
  assert.match(p.walScope, /own server/);
  const none = profileDelta(snap(0, 0, 0, 0, 0), snap(1, 1, 0, 0, 100), 1);
  assert.match(none.statements.unavailable, /pg_stat_statements/);
});

test('the DAG shape is seeded, acyclic and layered', () => {
  const a = layeredDag(1000, 20);
  assert.deepEqual(a, layeredDag(1000, 20));
  assert.equal(a.length, 1000);
  const index = new Map(a.map((n, i) => [n.key, i]));
  for (const [i, n] of a.entries()) {
    const layer = Math.floor(i / 50);
    assert.equal(n.dependsOn.length === 0, layer === 0);
    for (const d of n.dependsOn) assert.equal(Math.floor(index.get(d) / 50), layer - 1);
  }
});
