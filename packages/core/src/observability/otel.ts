/**
 * The one door to `@opentelemetry/api`, an optional peer dependency (DESIGN §7). The package is
 * required lazily on first use, so an application without it never loads it, and a missing
 * package costs a single `undefined` check per call afterwards. With the package present but no
 * tracer provider registered, `activeTracer()` costs a global look-up and one identity compare
 * (the provider behind the API's proxy is remembered), and returns undefined: no span objects,
 * no attribute maps, no context serialisation — callers skip their tracing code entirely.
 *
 * Only types are imported statically (erased at build time); nothing from this module's
 * signatures reaches the package's public types, so users without the package still compile.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import { VERSION } from '../version.js';

export type Api = typeof OtelApi;
export type Tracer = OtelApi.Tracer;
export type Span = OtelApi.Span;
export type SpanContext = OtelApi.SpanContext;
export type Link = OtelApi.Link;
export type Attributes = OtelApi.Attributes;
export type Context = OtelApi.Context;

/** The instrumentation scope our spans carry. */
export const TRACER_NAME = '@jobline/core';

/** undefined = not tried yet; null = not installed (or not loadable). */
let api: Api | null | undefined;
let noopProvider: unknown;
let lastProvider: unknown;
let lastTracer: Tracer | undefined;

function load(): Api | null {
  try {
    const a = createRequire(import.meta.url)('@opentelemetry/api') as Api;
    // The API's own no-op provider, which its proxy hands out until a provider is registered.
    noopProvider = new a.ProxyTracerProvider().getDelegate();
    return a;
  } catch (err) {
    // Not installed is the normal case for users who do not trace. Anything else (a broken
    // install) is not worth failing a queue for either: tracing stays off.
    if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') {
      process.emitWarning(`@opentelemetry/api could not be loaded (${(err as Error).message}); Jobline emits no spans`);
    }
    return null;
  }
}

/** The loaded API, or undefined when the package is not installed. */
export function otelApi(): Api | undefined {
  if (api === undefined) api = load();
  return api ?? undefined;
}

/**
 * The tracer to use now, or undefined when nothing would record: the package is absent, or no
 * tracer provider is registered. Checked on every call, so a provider registered after
 * connect() takes effect at once.
 */
export function activeTracer(): Tracer | undefined {
  const a = api === undefined ? otelApi() : api;
  if (!a) return undefined;
  const global = a.trace.getTracerProvider() as OtelApi.TracerProvider & { getDelegate?: () => OtelApi.TracerProvider };
  const provider = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
  if (provider === lastProvider) return lastTracer;
  lastProvider = provider;
  // Another copy of the API (another major's) would have its own no-op class: compare by name too.
  const noop = provider === noopProvider || provider?.constructor?.name === 'NoopTracerProvider';
  lastTracer = noop ? undefined : provider.getTracer(TRACER_NAME, VERSION);
  return lastTracer;
}
