/**
 * W3C Trace Context `traceparent` values (https://www.w3.org/TR/trace-context/#traceparent-header),
 * the form a job's trace context is stored in (`jobs.traceparent`) and handed to process and
 * container jobs (`TRACEPARENT`). Parsed here rather than through a propagator: the column is
 * always this one header, and a registered propagator may be of another format (B3, Jaeger).
 */
import type { Api, Context, SpanContext } from './otel.js';
import { isValidTraceparent } from './traceparent.js';

export { isValidTraceparent };

/** The remote span context a traceparent names, or undefined when it is not valid. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (!isValidTraceparent(value)) return undefined;
  return {
    traceId: value.slice(3, 35),
    spanId: value.slice(36, 52),
    traceFlags: parseInt(value.slice(53, 55), 16) & 0xff,
    isRemote: true,
  };
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A context whose parent is the given traceparent, or the root context when it is not valid. */
export function remoteContext(api: Api, traceparent: string | undefined): Context {
  const sc = parseTraceparent(traceparent);
  return sc ? api.trace.setSpanContext(api.ROOT_CONTEXT, sc) : api.ROOT_CONTEXT;
}
