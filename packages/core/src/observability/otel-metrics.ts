/**
 * The apps' Prometheus metrics, also through the OpenTelemetry metrics API (optional, like
 * traces): counters become observable counters and gauges observable gauges, read from the same
 * registry when the user's MeterProvider collects; histograms are recorded into OpenTelemetry
 * histograms with the same bucket boundaries as each observation happens. Same names, same
 * labels as attributes, so dashboards can move from one to the other. `GET /metrics` stays.
 *
 * The API has no proxy for meter providers: a meter taken before the provider is registered
 * stays a no-op. Register it before the app starts (NodeSDK via `node --import`, or first thing
 * in main) — the apps mirror their registries when they start.
 */
import { Counter, Gauge, Histogram, type MetricsRegistry } from './metrics.js';
import { otelApi } from './otel.js';
import { TRACER_NAME } from './otel.js';
import { VERSION } from '../version.js';

/**
 * Mirrors every metric registered so far in `registry` into the global MeterProvider. Returns
 * false (and does nothing) when `@opentelemetry/api` is not installed.
 */
export function mirrorMetricsToOpenTelemetry(registry: MetricsRegistry): boolean {
  const api = otelApi();
  if (!api) return false;
  const meter = api.metrics.getMeter(TRACER_NAME, VERSION);
  const observed: { metric: Counter<any> | Gauge<any>; instrument: ReturnType<typeof meter.createObservableCounter> }[] = [];
  for (const m of registry.all()) {
    if (m instanceof Histogram) {
      const h = meter.createHistogram(m.name, { description: m.help, advice: { explicitBucketBoundaries: [...m.buckets] } });
      m.observers.push((labels, v) => h.record(v, labels));
    } else if (m instanceof Counter) {
      observed.push({ metric: m, instrument: meter.createObservableCounter(m.name, { description: m.help }) });
    } else if (m instanceof Gauge) {
      observed.push({ metric: m, instrument: meter.createObservableGauge(m.name, { description: m.help }) });
    }
  }
  if (observed.length) {
    meter.addBatchObservableCallback(
      (result) => {
        for (const { metric, instrument } of observed) {
          for (const s of metric.series()) result.observe(instrument, s.value, s.labels);
        }
      },
      observed.map((o) => o.instrument),
    );
  }
  return true;
}
