/**
 * W3C Trace Context `traceparent` values (https://www.w3.org/TR/trace-context/#traceparent-header),
 * the form a job's trace context is stored in (`jobs.traceparent`) and handed to process and
 * container jobs (`TRACEPARENT`). Parsed here rather than through a propagator: the column is
 * always this one header, and a registered propagator may be of another format (B3, Jaeger).
 */
import type { Api, Context, SpanContext } from './otel.js';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * True for a traceparent a receiver must honour: version not `ff`, non-zero ids, and (for
 * version 00) nothing after the flags. Invalid values are ignored, never an error, as W3C says.
 */
export function isValidTraceparent(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 512) return false;
  const m = TRACEPARENT.exec(value);
  if (!m) return false;
  const [, version, traceId, spanId, , rest] = m;
  if (version === 'ff' || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return false;
  return version !== '00' || rest === undefined;
}

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
