/** Percentiles and a bounded sample store for latency numbers (milliseconds). */

/** Keeps at most `cap` samples, chosen uniformly (reservoir sampling), and the exact count/max. */
export class Reservoir {
  constructor(cap = 50_000) {
    this.cap = cap;
    this.samples = [];
    this.count = 0;
    this.max = -Infinity;
  }

  add(v) {
    this.count++;
    if (v > this.max) this.max = v;
    if (this.samples.length < this.cap) this.samples.push(v);
    else {
      const j = Math.floor(Math.random() * this.count);
      if (j < this.cap) this.samples[j] = v;
    }
  }
}

/** p-th percentile (0–100) of an array of numbers, nearest-rank; undefined for no samples. */
export function percentile(sorted, p) {
  if (!sorted.length) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** { count, p50, p95, p99, max } rounded to 0.01 ms. */
export function summarise(samples, count = samples.length, max) {
  const s = Float64Array.from(samples).sort();
  const r = (v) => (v === undefined ? undefined : Math.round(v * 100) / 100);
  return {
    count,
    p50: r(percentile(s, 50)),
    p95: r(percentile(s, 95)),
    p99: r(percentile(s, 99)),
    max: r(max ?? (s.length ? s[s.length - 1] : undefined)),
  };
}

/** Merges the sample sets several worker processes reported. */
export function mergeLatency(parts) {
  const samples = parts.flatMap((p) => p.samples ?? []);
  const count = parts.reduce((a, p) => a + (p.count ?? 0), 0);
  const max = Math.max(...parts.map((p) => p.max ?? -Infinity));
  return summarise(samples, count, Number.isFinite(max) ? max : undefined);
}

export const round = (v, d = 0) => (v === undefined || v === null || !Number.isFinite(v) ? v : Math.round(v * 10 ** d) / 10 ** d);
