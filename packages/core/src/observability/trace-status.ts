/**
 * The public tracing helpers, kept apart from otel.ts so that their declarations carry no
 * OpenTelemetry types (the package's types must compile without `@opentelemetry/api`).
 */
import { activeTracer, otelApi } from './otel.js';
import { formatTraceparent } from './trace-context.js';

/** What tracing does in this process: package not installed, no tracer provider, or recording. */
export type TracingState = 'absent' | 'no-provider' | 'enabled';

export function tracingState(): TracingState {
  if (!otelApi()) return 'absent';
  return activeTracer() ? 'enabled' : 'no-provider';
}

/**
 * The active span's context as a traceparent, when a tracer records and a span is active: for
 * applications that hand the current trace to something outside (a process, a message).
 */
export function currentTraceparent(): string | undefined {
  if (!activeTracer()) return undefined;
  const api = otelApi()!;
  const sc = api.trace.getSpan(api.context.active())?.spanContext();
  return sc && api.trace.isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}
