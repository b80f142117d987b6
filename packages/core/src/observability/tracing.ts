/**
 * Producer-side spans (OpenTelemetry messaging semantic conventions; README.md beside this file
 * has the whole trace shape): `publish <queue>` for enqueue/enqueueMany and `submit_dag <name>`
 * for submitDag, both PRODUCER spans whose context becomes the jobs' creation context, stored in
 * `jobs.traceparent`. Every function returns undefined at once when no tracer would record
 * (otel.ts), which is the whole cost of tracing for users who do not trace.
 */
import { activeTracer, otelApi, type Api, type Attributes, type Context, type Link, type Span } from './otel.js';
import { formatTraceparent, isValidTraceparent, parseTraceparent, remoteContext } from './trace-context.js';

/** `messaging.system` of every Jobline span. */
export const MESSAGING_SYSTEM = 'jobline';
/** Most links one span carries (custom creation contexts of a batch, parents of a DAG node). */
export const MAX_LINKS = 128;

/** The part of a job spec the producer span reads and writes. */
export interface TracedSpec {
  queue: string;
  name: string;
  traceparent?: string;
}

/** A started producer span: run the write inside it, then end it with what was written. */
export interface ProducerSpan<R> {
  /** Runs `write` with the span active (database instrumentation nests under it), ends the span with its result or error. */
  around(write: () => Promise<R>, describe: (span: Span, result: R) => void): Promise<R>;
}

/**
 * The parent of a producer span: the active span when there is one (an HTTP server span made
 * by the user's instrumentation, their own span), else the caller's traceparent (the producer
 * API passes the request's header), else a new trace.
 */
function producerParent(api: Api, callerTraceparent: string | undefined): Context {
  const active = api.context.active();
  const sc = api.trace.getSpan(active)?.spanContext();
  if (sc && api.trace.isSpanContextValid(sc)) return active;
  return callerTraceparent ? remoteContext(api, callerTraceparent) : active;
}

function startProducer<R>(
  api: Api,
  name: string,
  parent: Context,
  attributes: Attributes,
  links: Link[],
): { span: Span; handle: ProducerSpan<R> } {
  const tracer = activeTracer()!;
  const span = tracer.startSpan(name, { kind: api.SpanKind.PRODUCER, attributes, links }, parent);
  const ctx = api.trace.setSpan(parent, span);
  const handle: ProducerSpan<R> = {
    async around(write, describe) {
      try {
        const result = await api.context.with(ctx, write);
        describe(span, result);
        return result;
      } catch (err) {
        failSpan(api, span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  };
  return { span, handle };
}

/** Marks a span failed: `error.type` (the error's code, else its name), the exception, status ERROR. */
export function failSpan(api: Api, span: Span, err: unknown): void {
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  span.setAttribute('error.type', typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : '_OTHER');
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: typeof e?.message === 'string' ? e.message.slice(0, 500) : String(err) });
}

/**
 * Starts `publish <queue>` for jobs about to be inserted and gives each job without a
 * traceparent of its own the span's context. A traceparent given in a spec is a custom creation
 * context: kept as it is, and linked from the span (semantic conventions: the publish span links
 * to every creation context it carries). Without a tracer, jobs without one take the caller's
 * traceparent (so process jobs still continue the caller's trace) and undefined is returned.
 */
export function startPublishSpan<R>(
  jobs: readonly { spec: TracedSpec }[],
  single: boolean,
  callerTraceparent?: string,
): ProducerSpan<R> | undefined {
  const caller = isValidTraceparent(callerTraceparent) ? callerTraceparent : undefined;
  const tracer = activeTracer();
  if (!tracer) {
    if (caller) for (const j of jobs) j.spec.traceparent ??= caller;
    return undefined;
  }
  const api = otelApi()!;
  const specs = jobs.map((j) => j.spec);
  const queues = new Set(specs.map((s) => s.queue));
  const queue = queues.size === 1 ? specs[0].queue : undefined;
  const attributes: Attributes = {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation.name': 'publish',
    'messaging.operation.type': 'send',
  };
  if (queue !== undefined) attributes['messaging.destination.name'] = queue;
  if (single) attributes['jobline.job.name'] = specs[0].name;
  else attributes['messaging.batch.message_count'] = specs.length;
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const s of specs) {
    if (s.traceparent === undefined || seen.has(s.traceparent) || links.length >= MAX_LINKS) continue;
    seen.add(s.traceparent);
    const context = parseTraceparent(s.traceparent);
    if (context) links.push({ context });
  }
  const { span, handle } = startProducer<R>(
    api,
    queue === undefined ? 'publish' : `publish ${queue}`,
    producerParent(api, caller),
    attributes,
    links,
  );
  const own = formatTraceparent(span.spanContext());
  for (const s of specs) s.traceparent ??= own;
  return handle;
}

/**
 * Starts `submit_dag <name>` (PRODUCER, `messaging.operation.type` send: one call publishes
 * every node; `messaging.destination.name` is added once the nodes' queues are known). Returns
 * the traceparent every node job stores — the span's, or without a tracer the caller's — and
 * the span handle (undefined without a tracer).
 */
export function startSubmitSpan<R>(
  dag: { name: string; nodes: unknown[] },
  callerTraceparent?: string,
): { traceparent?: string; span?: ProducerSpan<R> } {
  const caller = isValidTraceparent(callerTraceparent) ? callerTraceparent : undefined;
  if (!activeTracer()) return { traceparent: caller };
  const api = otelApi()!;
  const attributes: Attributes = {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation.name': 'submit_dag',
    'messaging.operation.type': 'send',
    'messaging.batch.message_count': dag.nodes.length,
    'jobline.dag.name': dag.name,
  };
  const { span, handle } = startProducer<R>(api, `submit_dag ${dag.name}`, producerParent(api, caller), attributes, []);
  return { traceparent: formatTraceparent(span.spanContext()), span: handle };
}
