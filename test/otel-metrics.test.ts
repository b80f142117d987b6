/**
 * The apps' metrics through the OpenTelemetry metrics API, with the real SDK
 * (@opentelemetry/sdk-metrics): same names and labels as GET /metrics, counters and gauges read
 * at collection, histograms with the registry's bucket boundaries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { startWorkerApp, type WorkerApp } from '@jobline/worker';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { startTestProducer, type TestProducer } from './fixtures/app-producer.js';

/** A pull reader: the test collects when it wants to look. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const reader = new TestReader();
let db: TestDb;
let p: TestProducer;
let app: WorkerApp;

beforeAll(async () => {
  // Registered before the apps start: the API has no proxy for meters taken earlier.
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  db = await openTestDb();
  p = await startTestProducer(db);
  app = await startWorkerApp({
    jl: db.jl,
    handlers: {
      ok: async () => 'done',
      boom: async () => {
        throw new Error('boom');
      },
    },
    worker: { queues: ['m'] },
  });
});
afterAll(async () => {
  await app?.stop();
  await p?.close();
  await db?.close();
  metrics.disable();
});

async function collected(): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, MetricData>();
  for (const sm of resourceMetrics.scopeMetrics) {
    expect(sm.scope.name).toBe('@jobline/core');
    for (const m of sm.metrics) out.set(m.descriptor.name, m);
  }
  return out;
}
const point = (m: MetricData | undefined, attrs: Record<string, string | number>) =>
  m?.dataPoints.find((d) => Object.entries(attrs).every(([k, v]) => d.attributes[k] === v));

describe('metrics through the OpenTelemetry API', () => {
  it('mirror the worker and producer registries: counters, gauges and histograms with their labels', async () => {
    const a = await p.call('POST', '/v1/jobs', { body: { queue: 'm', name: 'ok' } });
    const b = await p.call('POST', '/v1/jobs', { body: { queue: 'm', name: 'boom', maxAttempts: 1 } });
    expect([a.status, b.status]).toEqual([201, 201]);
    await waitFor(
      async () => (await db.jl.getJob(a.body.id)).state === 'completed' && (await db.jl.getJob(b.body.id)).state === 'failed',
      20_000,
      'both jobs to finish',
    );

    const m = await collected();
    // Producer: the same series as GET /metrics.
    expect(point(m.get('jobline_jobs_enqueued_total'), { queue: 'm' })?.value).toBe(2);
    const text = (await p.call('GET', '/metrics', { token: null })).text;
    expect(text).toContain('jobline_jobs_enqueued_total{queue="m"} 2');
    const requests = m.get('jobline_http_requests_total')!;
    expect(point(requests, { method: 'POST', route: '/v1/jobs', status: 201 })?.value).toBe(2);
    const latency = point(m.get('jobline_http_request_duration_seconds'), { method: 'POST', route: '/v1/jobs' });
    expect(m.get('jobline_http_request_duration_seconds')!.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect((latency?.value as { count: number } | undefined)?.count).toBe(2);

    // Worker: outcome counters, a histogram with the registry's buckets, gauges read at collection.
    expect(point(m.get('jobline_worker_jobs_completed_total'), { queue: 'm' })?.value).toBe(1);
    expect(point(m.get('jobline_worker_jobs_failed_total'), { queue: 'm' })?.value).toBe(1);
    const duration = point(m.get('jobline_worker_handler_duration_seconds'), { queue: 'm', outcome: 'completed' });
    const hist = duration?.value as { count: number; buckets: { boundaries: number[] } };
    expect(hist.count).toBe(1);
    expect(hist.buckets.boundaries).toEqual([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]);
    expect(m.get('jobline_worker_concurrency')!.dataPointType).toBe(DataPointType.GAUGE);
    expect(point(m.get('jobline_worker_concurrency'), {})?.value).toBe(app.worker.options.concurrency);
    expect(point(m.get('jobline_worker_in_flight'), {})?.value).toBe(0);
  });
});
