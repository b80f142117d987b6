/**
 * Consumer-side spans: one `process <queue>` CONSUMER span per attempt, and the `release <queue>`
 * PRODUCER span a DAG node gets when its last parent completes (links to every parent's
 * completing attempt). See README.md beside this file for the trace shape and why the process
 * span is both a child of and linked to the job's creation context.
 */
import type { Job, JobError } from '../model/job.js';
import { activeTracer, otelApi, type Attributes, type Context, type Link, type Span } from './otel.js';
import { formatTraceparent, parseTraceparent, remoteContext } from './trace-context.js';
import { MAX_LINKS, MESSAGING_SYSTEM } from './tracing.js';

/** How an attempt ended, as `jobline.job.outcome`. */
export type AttemptOutcome = 'completed' | 'retryable' | 'failed' | 'timed_out' | 'cancelled' | 'released';

/** The span of one running attempt. */
export interface AttemptSpan {
  /** The attempt span's context as a traceparent: what the handler's `ctx.job.traceparent` shows. */
  readonly traceparent: string;
  /** Runs `fn` with the attempt span active, so the handler's own spans nest under it. */
  run(fn: () => void): void;
  /**
   * Runs `fn` outside any span: what the worker does after the handler (queueing its outcome,
   * which may start the completer's timer) must not inherit the attempt's context.
   */
  detached(fn: () => void): void;
  /** Ends the span once; later calls are ignored. */
  end(outcome: AttemptOutcome, error?: JobError): void;
}

class AttemptSpanImpl implements AttemptSpan {
  readonly traceparent: string;
  private ended = false;
  constructor(
    private readonly span: Span,
    private readonly ctx: Context,
  ) {
    this.traceparent = formatTraceparent(span.spanContext());
  }

  run(fn: () => void): void {
    otelApi()!.context.with(this.ctx, fn);
  }

  detached(fn: () => void): void {
    const api = otelApi()!;
    api.context.with(api.ROOT_CONTEXT, fn);
  }

  end(outcome: AttemptOutcome, error?: JobError): void {
    if (this.ended) return;
    this.ended = true;
    const api = otelApi()!;
    this.span.setAttribute('jobline.job.outcome', outcome);
    if (error && outcome !== 'cancelled' && outcome !== 'released') {
      this.span.setAttribute('error.type', error.code ?? error.name ?? '_OTHER');
      this.span.recordException({ name: error.name, message: error.message, stack: error.stack });
      this.span.setStatus({ code: api.SpanStatusCode.ERROR, message: String(error.message).slice(0, 500) });
    }
    this.span.end();
  }
}

/**
 * Starts the attempt's `process <queue>` span, or returns undefined when no tracer records.
 * Parent: the job's creation context (`jobs.traceparent`), so enqueue and every attempt form one
 * trace; the same context is also a link, which the semantic conventions ask of process spans.
 */
export function startAttemptSpan(job: Job, workerId: string): AttemptSpan | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const api = otelApi()!;
  const parent = remoteContext(api, job.traceparent);
  const creation = parseTraceparent(job.traceparent);
  const attributes: Attributes = {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation.name': 'process',
    'messaging.operation.type': 'process',
    'messaging.destination.name': job.queue,
    'messaging.message.id': String(job.id),
    'messaging.client.id': workerId,
    'jobline.job.name': job.name,
    'jobline.job.attempt': job.attempt,
    'jobline.job.max_attempts': job.maxAttempts,
  };
  if (job.definition !== undefined) attributes['jobline.job.definition'] = job.definition;
  if (job.dagRunId !== undefined) attributes['jobline.dag.run_id'] = job.dagRunId;
  if (job.dagNodeKey !== undefined) attributes['jobline.dag.node_key'] = job.dagNodeKey;
  const span = tracer.startSpan(
    `process ${job.queue}`,
    { kind: api.SpanKind.CONSUMER, attributes, links: creation ? [{ context: creation }] : [] },
    parent,
  );
  return new AttemptSpanImpl(span, api.trace.setSpan(parent, span));
}

/** A DAG node released in this transaction, with its parents' completing attempts. */
export interface ReleasedNode {
  jobId: number;
  queue: string;
  dagRunId: number;
  key: string;
  /** The node's stored creation context: the run's submit_dag span. */
  traceparent?: string;
  parents: { key: string; jobId: number; traceparent?: string }[];
}

/**
 * One `release <queue>` span per released node (PRODUCER, operation type `create`: the node's
 * message is created now, with its own creation context). Parent: the run's submit span; links:
 * each parent's completing attempt (`jobline.dag.node_key` on the link names the parent).
 * Returns the new creation context per job, or undefined when no tracer records.
 */
export function releaseSpans(nodes: ReleasedNode[]): Map<number, string> | undefined {
  const tracer = activeTracer();
  if (!tracer || !nodes.length) return undefined;
  const api = otelApi()!;
  const out = new Map<number, string>();
  for (const n of nodes) {
    const links: Link[] = [];
    for (const p of n.parents) {
      const context = parseTraceparent(p.traceparent);
      if (context && links.length < MAX_LINKS) {
        links.push({ context, attributes: { 'jobline.dag.node_key': p.key, 'messaging.message.id': String(p.jobId) } });
      }
    }
    const span = tracer.startSpan(
      `release ${n.queue}`,
      {
        kind: api.SpanKind.PRODUCER,
        links,
        attributes: {
          'messaging.system': MESSAGING_SYSTEM,
          'messaging.operation.name': 'release',
          'messaging.operation.type': 'create',
          'messaging.destination.name': n.queue,
          'messaging.message.id': String(n.jobId),
          'jobline.dag.run_id': n.dagRunId,
          'jobline.dag.node_key': n.key,
        },
      },
      remoteContext(api, n.traceparent),
    );
    span.end();
    out.set(n.jobId, formatTraceparent(span.spanContext()));
  }
  return out;
}
