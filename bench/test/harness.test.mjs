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
  const m = mergeLatency([{ samples: [1, 2], count: 2, max: 2 }, { samples: [3], count: 5, max: 9 }]);
  assert.equal(m.count, 7);
  assert.equal(m.max, 9);
});

test('the built-in PNG renderer writes a valid PNG', () => {
  const png = renderPng({ width: 40, height: 20, items: [{ type: 'rect', x: 0, y: 0, w: 10, h: 10, fill: '#ff0000' }, { type: 'text', x: 12, y: 12, text: 'Hi→1', size: 13 }] });
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
  assert.deepEqual(chunks.map((c) => c.type), ['IHDR', 'IDAT', 'IEND']);
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
  machine: { cores: 2, cpuModel: 'x', memoryGiB: 1, os: 'linux', node: 'v20', postgres: '15.2', server: 'local', settings: { fsync: 'on', synchronous_commit: 'on' }, loadAverageAtStart: [0, 0, 0], otherClientBackendsAtStart: 0 },
  params: {},
  systems: ['jobline', 'raw', 'pg-boss', 'graphile-worker'].map((name) => ({ name, label: name, settings: '' })),
  results: {
    'drain-1p': { jobline: { jobsPerSec: 20000, rssPeakMiB: 100 }, raw: { jobsPerSec: 40000 }, 'pg-boss': { jobsPerSec: 1000 }, 'graphile-worker': { jobsPerSec: 2500 } },
    'latency-200': { jobline: { latencyMs: { p50: 2, p95: 4, p99: 12 } }, 'graphile-worker': { latencyMs: { p50: 3, p95: 5, p99: 9 } } },
    'drain-4p': { jobline: { error: 'boom' } },
  },
};

test('table rows pick the best peer by direction and compute ratios', () => {
  const rows = tableRows(fakeRun.results, fakeRun.systems.map((s) => s.name));
  const drain = rows.find((r) => r.label.startsWith('drain, 1 process'));
  assert.equal(drain.bestPeer, 'graphile-worker');
  assert.equal(drain.ratioBestPeer, 8);
  assert.equal(drain.ratioRaw, 0.5);
  const p99 = rows.find((r) => r.label === 'latency @200/s p99 ms');
  assert.equal(p99.bestPeer, 'graphile-worker');
  assert.ok(Math.abs(p99.ratioBestPeer - 12 / 9) < 1e-9);
  assert.ok(!rows.some((r) => r.label.startsWith('drain, 4')), 'errored results make no row');
});

test('targets are checked against the issue thresholds', () => {
  const t = Object.fromEntries(checkTargets(fakeRun.results).map((x) => [x.target, x.met]));
  assert.equal(t['drain-1p: Jobline ≥ 5× graphile-worker'], true);
  assert.equal(t['drain-1p: Jobline ≥ 10× pg-boss'], true);
  assert.equal(t['drain-1p: Jobline ≥ 50% of the raw floor'], true);
  assert.equal(t['latency @200/s: p99 ≤ 10 ms'], false);
  assert.equal(t['drain-4p: Jobline ≥ 5× graphile-worker'], undefined);
  const md = markdownReport(fakeRun);
  assert.match(md, /\| drain, 1 process, jobs\/s \| higher \| 20,000 \| 40,000 \| 1,000 \| \*\*2,500\*\* \| 8\.00× \(graphile-worker\) \| 0\.50× \|/);
  assert.match(md, /drain-4p \/ jobline: error — boom/);
  assert.match(toSvg(chartModel(fakeRun)), /^<svg /);
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
  // The floor target compares equal jobs in flight: 16,000 / 30,000.
  assert.ok(Math.abs(t['drain-1p: Jobline ≥ 50% of the raw floor (both 2,000 in flight)'].measured - 16 / 30) < 1e-9);
  // The peer targets stay at 200 in flight: 12,000 / 2,000.
  assert.equal(t['drain-1p: Jobline ≥ 5× graphile-worker'].measured, 6);
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
