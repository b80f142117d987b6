/**
 * A tiny Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4. The apps need a dozen series; a client library would be the largest
 * dependency of either, so this file is the whole of it. Label values are escaped as the format
 * requires; metric and label names are fixed by our own code.
 */

type Labels = Record<string, string | number>;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelKey(names: readonly string[], labels: Labels): string {
  return names.map((n) => `${n}="${escapeLabel(String(labels[n] ?? ''))}"`).join(',');
}

const fmt = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

interface Metric {
  render(): string;
}

abstract class Base<L extends string> implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    private readonly type: string,
  ) {}
  protected header(): string {
    return `# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} ${this.type}\n`;
  }
  /** Label sets by series key, for readers other than the text format (otel-metrics.ts). */
  protected readonly labelSets = new Map<string, Labels>();
  protected key(labels: Partial<Record<L, string | number>>): string {
    const k = labelKey(this.labelNames, labels as Labels);
    if (!this.labelSets.has(k)) this.labelSets.set(k, labels as Labels);
    return k;
  }
  abstract render(): string;
}

/** One series of a counter or gauge: its labels and current value. */
export interface MetricSeries {
  labels: Record<string, string | number>;
  value: number;
}

export class Counter<L extends string = never> extends Base<L> {
  private readonly values = new Map<string, number>();
  constructor(name: string, help: string, labelNames: readonly L[] = []) {
    super(name, help, labelNames, 'counter');
  }
  inc(labels: Record<L, string | number> = {} as Record<L, string>, by = 1): void {
    const k = this.key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Record<L, string | number> = {} as Record<L, string>): number {
    return this.values.get(this.key(labels)) ?? 0;
  }
  series(): MetricSeries[] {
    return [...this.values].map(([k, value]) => ({ labels: this.labelSets.get(k) ?? {}, value }));
  }
  render(): string {
    let out = this.header();
    for (const [k, v] of this.values) out += `${this.name}${k ? `{${k}}` : ''} ${fmt(v)}\n`;
    return out;
  }
}

/** A gauge is set directly or read from a callback at scrape time (e.g. in-flight jobs). */
export class Gauge<L extends string = never> extends Base<L> {
  private readonly values = new Map<string, number>();
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    private readonly collect?: (set: (labels: Record<L, string | number>, v: number) => void) => void,
  ) {
    super(name, help, labelNames, 'gauge');
  }
  set(labels: Record<L, string | number>, v: number): void {
    this.values.set(this.key(labels), v);
  }
  series(): MetricSeries[] {
    this.refresh();
    return [...this.values].map(([k, value]) => ({ labels: this.labelSets.get(k) ?? {}, value }));
  }
  private refresh(): void {
    if (!this.collect) return;
    this.values.clear();
    this.collect((labels, v) => this.set(labels, v));
  }
  render(): string {
    this.refresh();
    let out = this.header();
    for (const [k, v] of this.values) out += `${this.name}${k ? `{${k}}` : ''} ${fmt(v)}\n`;
    return out;
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Base<L> {
  private readonly series = new Map<string, HistogramSeries>();
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    readonly buckets: readonly number[] = Histogram.SECONDS,
  ) {
    super(name, help, labelNames, 'histogram');
  }
  /** 1 ms to 5 min: queue waits and handler durations both live in this range. */
  static readonly SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
  /** Called with every observation (otel-metrics.ts mirrors them into an OpenTelemetry histogram). */
  readonly observers: ((labels: Record<string, string | number>, v: number) => void)[] = [];
  observe(labels: Record<L, string | number>, v: number): void {
    for (const o of this.observers) o(labels, v);
    const k = this.key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) s.counts[i]++;
    s.sum += v;
    s.count++;
  }
  render(): string {
    let out = this.header();
    for (const [k, s] of this.series) {
      const sep = k ? ',' : '';
      this.buckets.forEach((b, i) => (out += `${this.name}_bucket{${k}${sep}le="${fmt(b)}"} ${s.counts[i]}\n`));
      out += `${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}\n`;
      out += `${this.name}_sum${k ? `{${k}}` : ''} ${fmt(s.sum)}\n`;
      out += `${this.name}_count${k ? `{${k}}` : ''} ${s.count}\n`;
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  /** Content type of `render()`'s output. */
  static readonly CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

  register<M extends Counter<any> | Gauge<any> | Histogram<any>>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} is registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.register(new Counter(name, help, labelNames));
  }
  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (set: (labels: Record<L, string | number>, v: number) => void) => void,
  ): Gauge<L> {
    return this.register(new Gauge(name, help, labelNames, collect));
  }
  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets?: readonly number[],
  ): Histogram<L> {
    return this.register(new Histogram(name, help, labelNames, buckets));
  }
  render(): string {
    return [...this.metrics.values()].map((m) => m.render()).join('');
  }
  /** Every registered metric, in registration order. */
  all(): (Counter<any> | Gauge<any> | Histogram<any>)[] {
    return [...this.metrics.values()] as (Counter<any> | Gauge<any> | Histogram<any>)[];
  }
}

/** Standard process series (Prometheus client conventions), read at scrape time. */
export function registerProcessMetrics(r: MetricsRegistry): void {
  const started = Date.now() / 1000 - process.uptime();
  r.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch in seconds.', [], (set) => set({}, started));
  r.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [], (set) => set({}, process.memoryUsage().rss));
  r.gauge('nodejs_heap_used_bytes', 'V8 heap in use, in bytes.', [], (set) => set({}, process.memoryUsage().heapUsed));
}
