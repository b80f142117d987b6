/**
 * W3C Trace Context `traceparent` validity (https://www.w3.org/TR/trace-context/#traceparent-header),
 * free of OpenTelemetry types so that it can be part of the public API: the package's types must
 * compile for users without `@opentelemetry/api` (test/tracing.test.ts checks the d.ts graph).
 */
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
