import type { Logger } from 'pino';
import { ErrorCode, JoblineError } from '../db/errors.js';
import type { Job, JobError } from '../model/job.js';
import type { AttemptSpan } from '../observability/tracing-consumer.js';
import { AttemptKind, type SettledBy } from './attempt-kind.js';

/** What a handler receives besides its input (DESIGN §6). */
export interface JobContext<I = unknown> {
  job: Job<I>;
  attempt: number;
  /** Fires when the attempt times out, the job is cancelled, or the worker shuts down. */
  signal: AbortSignal;
  /**
   * Tells Jobline the handler is alive: restarts the attempt's timeout (so `timeoutMs` is the
   * longest time allowed between heartbeats) and checks the job is still this worker's. Resolves
   * false — and aborts `signal` — when the job was cancelled or rescued meanwhile.
   */
  heartbeat(): Promise<boolean>;
  /** Records progress (any number, e.g. percent) on the job row; throttled, best effort. */
  progress(n: number): Promise<void>;
  logger: Logger;
}

export type Handler<I = any, O = unknown> = (input: I, ctx: JobContext<I>) => Promise<O> | O;
export type Handlers = Record<string, Handler>;

export class TimeoutError extends JoblineError {
  override readonly code = ErrorCode.Timeout;
  constructor(ms: number) {
    super(`attempt timed out after ${ms} ms without finishing or heartbeating`);
    this.name = 'TimeoutError';
  }
}

export type AttemptResult =
  | { ok: true; output: unknown; durationMs: number }
  | { ok: false; error: JobError; retryable: boolean; timedOut: boolean; durationMs: number };

/** Serialisable error record: message, name, stack (bounded) and any `code`. */
export function errorRecord(err: unknown): JobError {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; retryable?: unknown; exitCode?: unknown; stderrTail?: unknown };
    return {
      message: e.message || String(e.name),
      name: e.name,
      stack: e.stack?.slice(0, 8000),
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      // Process and container executors: how the program ended, kept as fields for queries and UIs.
      ...(typeof e.exitCode === 'number' ? { exitCode: e.exitCode } : {}),
      ...(typeof e.stderrTail === 'string' && e.stderrTail ? { stderrTail: e.stderrTail } : {}),
      ...(e.retryable === false ? { retryable: false } : {}),
    };
  }
  return { message: typeof err === 'string' ? err : safeString(err) };
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * One attempt of one job in this worker: its deadlines, its abort signal and its single result.
 *
 * Per-attempt costs are kept off the hot path (a no-op drain runs ~20k attempts/s per process):
 * no timers of its own — the worker's one deadline sweep calls `checkDeadlines` — and no
 * AbortController until the handler reads `signal` (an abort before that is remembered and the
 * signal is born aborted). Measured on a 200k-job drain profile, the two timers and the
 * controller per attempt were ~8% of worker CPU and much of its allocation (so of its RSS).
 */
export class Attempt {
  readonly startedAt = performance.now();
  /** When the signal fires unless a heartbeat moves it. */
  softDeadline = 0;
  /** When a handler that ignored the signal is abandoned. */
  hardDeadline = 0;
  /** Set when cancel, shutdown or a release already closed the attempt in the database (and by which). */
  settled: SettledBy | undefined;
  /** The handler's `ctx` (its logger is reused for the attempt's end). */
  context: JobContext | undefined;
  /** The attempt's `process` span, when a tracer records (observability/README.md). */
  trace: AttemptSpan | undefined;
  private controller: AbortController | undefined;
  private reason: unknown;
  private isAborted = false;
  private softFired = false;
  private finished = false;

  constructor(
    readonly job: Job,
    private readonly graceMs: number,
    private readonly onResult: (attempt: Attempt, r: AttemptResult) => void,
  ) {
    this.touch();
  }

  /** Restarts the timeout clock (a heartbeat). */
  touch(): void {
    this.softDeadline = performance.now() + this.job.timeoutMs;
    this.hardDeadline = this.softDeadline + this.graceMs;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.isAborted;
  }

  /** `cancel()` already closed this attempt in the database (the cancel notice): end its span, abort the handler. */
  cancelledElsewhere(reason: unknown): void {
    this.settled = AttemptKind.Cancelled;
    this.trace?.end('cancelled');
    this.abort(reason);
  }

  abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  /** The next moment `checkDeadlines` has something to do. */
  get nextDeadline(): number {
    return this.softFired ? this.hardDeadline : this.softDeadline;
  }

  /** Fires the signal past the soft deadline; past the hard one, ends the attempt as timed out. */
  checkDeadlines(now: number): void {
    if (this.finished) return;
    if (!this.softFired && now >= this.softDeadline) {
      this.softFired = true;
      this.abort(new TimeoutError(this.job.timeoutMs));
    }
    if (now >= this.hardDeadline) {
      this.finish({
        ok: false,
        error: errorRecord(new TimeoutError(this.job.timeoutMs)),
        retryable: true,
        timedOut: true,
        durationMs: now - this.startedAt,
      });
    }
  }

  /**
   * Calls the handler and reports its result once (an abandoned handler's promise keeps
   * running, but its result is ignored). A handler that returns a plain value finishes at once,
   * without a promise.
   */
  run(handler: Handler, ctx: JobContext): void {
    let out: unknown;
    try {
      out = handler(this.job.input, ctx);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
      (out as PromiseLike<unknown>).then(
        (output) => this.succeed(output),
        (err) => this.fail(err),
      );
    } else {
      this.succeed(out);
    }
  }

  private succeed(output: unknown): void {
    this.finish({ ok: true, output, durationMs: performance.now() - this.startedAt });
  }

  private fail(err: unknown): void {
    const timedOut = this.isAborted && this.reason instanceof TimeoutError;
    this.finish({
      ok: false,
      error: errorRecord(timedOut && err === this.reason ? this.reason : err),
      retryable: (err as { retryable?: unknown })?.retryable !== false,
      timedOut,
      durationMs: performance.now() - this.startedAt,
    });
  }

  private finish(r: AttemptResult): void {
    if (this.finished) return;
    this.finished = true;
    this.onResult(this, r);
  }
}
