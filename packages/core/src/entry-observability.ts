/**
 * `@jobline/core/observability`: metrics (Prometheus text, OpenTelemetry mirror), application
 * loggers, trace-context helpers and statement timing (observability/README.md).
 */
export { MetricsRegistry, Counter, Gauge, Histogram, registerProcessMetrics, type MetricSeries } from './observability/metrics.js';
export { mirrorMetricsToOpenTelemetry } from './observability/otel-metrics.js';
export { createAppLogger, prettyLine, type AppLoggerOptions } from './observability/log.js';
export { defaultLogger } from './logger.js';
export { currentTraceparent, tracingState, type TracingState } from './observability/trace-status.js';
export { isValidTraceparent } from './observability/traceparent.js';
export { statementHistogram, labelled, deriveName as deriveStatementName, type QueryLogOptions } from './db/query-log.js';
export { AttemptKind, type AttemptReport } from './worker/attempt-kind.js';
