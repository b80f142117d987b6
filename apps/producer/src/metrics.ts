import { MetricsRegistry, registerProcessMetrics, type Counter, type Gauge, type Histogram } from '@jobline/core/observability';

export interface ProducerMetrics {
  registry: MetricsRegistry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  enqueued: Counter<'queue'>;
  duplicates: Counter<'queue'>;
  dagsSubmitted: Counter;
  /** Groups held by reason, as read at the last scrape (refreshHeld). */
  held: Gauge<'reason'>;
}

export function createProducerMetrics(): ProducerMetrics {
  const registry = new MetricsRegistry();
  registerProcessMetrics(registry);
  return {
    registry,
    requests: registry.counter('jobline_http_requests_total', 'HTTP requests by method, route template and status.', [
      'method',
      'route',
      'status',
    ]),
    duration: registry.histogram('jobline_http_request_duration_seconds', 'HTTP request latency by method and route template.', [
      'method',
      'route',
    ]),
    enqueued: registry.counter('jobline_jobs_enqueued_total', 'Jobs created through the API, by queue.', ['queue']),
    duplicates: registry.counter(
      'jobline_jobs_enqueue_duplicates_total',
      'Enqueues answered with an existing job (same idempotency key), by queue.',
      ['queue'],
    ),
    dagsSubmitted: registry.counter('jobline_dags_submitted_total', 'DAG runs created through the API.'),
    held: registry.gauge('jobline_groups_held', 'Groups (tenants) whose jobs are held now, by reason (quota: wallet exhausted).', [
      'reason',
    ]),
  };
}
