import type { Definition } from '../definitions/schema.js';
import type { Job } from '../model/job.js';

/** Worker variables a process job inherits (never the whole environment: it holds DATABASE_URL and tokens). */
export const BASE_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'];

/**
 * The environment of a process or container job, in increasing precedence: `base` (the worker
 * variables in BASE_ENV, for processes only), the worker variables named in the definition's
 * `secretEnv`, the definition's `env`, and the job's own JOBLINE_* variables plus TRACEPARENT
 * (W3C trace context from the job's `traceparent` column, so the program's spans join the trace).
 * Secret values live only in the returned object; callers never log it.
 */
export function jobEnv(def: Definition, job: Job, workerEnv: NodeJS.ProcessEnv, base: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of base) if (workerEnv[k] !== undefined) env[k] = workerEnv[k]!;
  const missing = def.secretEnv.filter((k) => workerEnv[k] === undefined);
  if (missing.length) {
    throw Object.assign(
      new Error(
        `definition ${def.name}@${def.version} needs ${missing.join(', ')} from the worker's environment, which this worker does not have; set it where the worker starts`,
      ),
      { code: 'MISSING_SECRET_ENV' },
    );
  }
  for (const k of def.secretEnv) env[k] = workerEnv[k]!;
  Object.assign(env, def.env, {
    JOBLINE_JOB_ID: String(job.id),
    JOBLINE_QUEUE: job.queue,
    JOBLINE_JOB_NAME: job.name,
    JOBLINE_ATTEMPT: String(job.attempt),
    JOBLINE_MAX_ATTEMPTS: String(job.maxAttempts),
    JOBLINE_DEFINITION: `${def.name}@${def.version}`,
    ...(job.traceparent ? { TRACEPARENT: job.traceparent } : {}),
  });
  return env;
}

/** Parses a program's output: the whole of it as JSON, else its last non-empty line (programs that log first). */
export function parseOutput(stdout: string): { ok: true; value: unknown } | { ok: false } {
  const text = stdout.trim();
  if (text === '') return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const last = text.split('\n').pop()!.trim();
    try {
      return { ok: true, value: JSON.parse(last) };
    } catch {
      return { ok: false };
    }
  }
}

/**
 * Replaces the values of the definition's secret variables in text that leaves the job (the
 * stderr tail and stdout head of an error record): `[secret NAME]` instead of the value.
 */
export function redactSecrets(text: string, def: Pick<Definition, 'secretEnv'>, env: Record<string, string>): string {
  let out = text;
  for (const k of def.secretEnv) {
    const v = env[k];
    if (v) out = out.split(v).join(`[secret ${k}]`);
  }
  return out;
}

/** Keeps the last `bytes` of a stream (stderr's end for the error record). */
export class TailBuffer {
  private buf = Buffer.alloc(0);
  constructor(private readonly bytes: number) {}
  push(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (this.buf.length > this.bytes * 2) this.buf = this.buf.subarray(this.buf.length - this.bytes);
  }
  text(): string {
    return this.buf
      .subarray(Math.max(0, this.buf.length - this.bytes))
      .toString('utf8')
      .trimEnd();
  }
}
