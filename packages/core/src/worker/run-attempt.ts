import type { Logger } from 'pino';
import type { Job, JobError } from '../db/rows.js';

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

export class TimeoutError extends Error {
  readonly code = 'TIMEOUT';
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
    const e = err as Error & { code?: unknown; retryable?: unknown };
    return {
      message: e.message || String(e.name),
      name: e.name,
      stack: e.stack?.slice(0, 8000),
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
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

export interface AttemptControl {
  /** Abort controller of the attempt; the worker aborts it on cancel or shutdown. */
  controller: AbortController;
  /** Restarts the timeout clock (heartbeat). */
  touch(): void;
}

/**
 * Runs one attempt. The signal fires at `timeoutMs` since the start or the last heartbeat; a
 * handler that ignores it is abandoned `graceMs` later and the attempt is recorded as timed out
 * (its promise keeps running, but its result is ignored and its slot is given back).
 */
export function runAttempt(
  job: Job,
  handler: Handler,
  makeCtx: (control: AttemptControl) => JobContext,
  graceMs: number,
): { control: AttemptControl; result: Promise<AttemptResult> } {
  const controller = new AbortController();
  const started = performance.now();
  let softTimer: NodeJS.Timeout | undefined;
  let hardTimer: NodeJS.Timeout | undefined;
  let abandon!: (r: AttemptResult) => void;
  const abandoned = new Promise<AttemptResult>((r) => (abandon = r));

  const arm = () => {
    clearTimeout(softTimer);
    clearTimeout(hardTimer);
    softTimer = setTimeout(() => controller.abort(new TimeoutError(job.timeoutMs)), job.timeoutMs);
    hardTimer = setTimeout(
      () =>
        abandon({
          ok: false,
          error: errorRecord(new TimeoutError(job.timeoutMs)),
          retryable: true,
          timedOut: true,
          durationMs: performance.now() - started,
        }),
      job.timeoutMs + graceMs,
    );
  };
  const control: AttemptControl = { controller, touch: arm };
  arm();

  const ran = (async (): Promise<AttemptResult> => {
    try {
      const output = await handler(job.input, makeCtx(control));
      return { ok: true, output, durationMs: performance.now() - started };
    } catch (err) {
      const reason = controller.signal.reason;
      const timedOut = controller.signal.aborted && reason instanceof TimeoutError;
      return {
        ok: false,
        error: errorRecord(timedOut && err === reason ? reason : err),
        retryable: (err as { retryable?: unknown })?.retryable !== false,
        timedOut,
        durationMs: performance.now() - started,
      };
    }
  })();

  const result = Promise.race([ran, abandoned]).finally(() => {
    clearTimeout(softTimer);
    clearTimeout(hardTimer);
  });
  return { control, result };
}
