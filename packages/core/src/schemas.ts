/**
 * zod schemas for every input boundary of the library; the producer API and the CLI validate
 * with the same schemas, so a field has one rule and one error message everywhere.
 */
import { z } from 'zod';
import { ValidationError } from './db/errors.js';

/**
 * Queue names end up in NATS subjects (`jobline.job.<queue>.…`), so they are limited to
 * characters that are safe there: letters, digits, `_` and `-`.
 */
export const QueueName = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'queue names use 1-128 letters, digits, "_" or "-"');

/** Text PostgreSQL can store: no NUL characters, no unpaired UTF-16 surrogates. */
export const StorableText = z.string().refine((v) => !v.includes('\u0000') && (v as string & { isWellFormed(): boolean }).isWellFormed(), {
  message: 'contains a NUL character or an unpaired UTF-16 surrogate, which PostgreSQL cannot store',
});

export const JobName = StorableText.pipe(z.string().min(1, 'job name must not be empty').max(200, 'job name is at most 200 characters'));

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A date given as a Date or an ISO-8601 string. */
export const DateInput = z.union([z.date(), z.iso.datetime({ offset: true })]).transform((v) => new Date(v));

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** Defaults shared by jobs and DAG nodes; `runAt` and `idempotencyKey` are jobs-only. */
export const RetryTimeoutFields = {
  /** Total attempts including the first. */
  maxAttempts: int(1, 1000).optional(),
  /** Per-attempt timeout; the handler's AbortSignal fires at this point. */
  timeoutMs: int(1, 7 * 24 * 3600 * 1000).optional(),
};

const PolicyKey = StorableText.pipe(z.string().min(1, 'key must be a non-empty string').max(255));

/** A throttle/debounce window (queue/enqueue-policies.ts): `periodMs` from 1 ms to 30 days. */
export const PolicyWindow = z.strictObject({
  key: PolicyKey,
  periodMs: z
    .number()
    .int('periodMs must be a whole number of milliseconds')
    .min(1, 'periodMs must be at least 1 (a window of 0 ms would let every job through)')
    .max(30 * 24 * 3600 * 1000, 'periodMs is at most 30 days'),
});

export const JobSpecSchema = z.strictObject({
  queue: QueueName.default('default'),
  name: JobName,
  input: z.unknown().optional(),
  /** Lower numbers run first (like graphile-worker and BullMQ); default 0. */
  priority: int(-1_000_000, 1_000_000).default(0),
  runAt: DateInput.optional(),
  ...RetryTimeoutFields,
  idempotencyKey: StorableText.pipe(z.string().min(1).max(255)).optional(),
  /** The job's group (e.g. a tenant id): per-group limits, fair claiming and quotas apply to it. */
  group: StorableText.pipe(z.string().min(1, 'group must be a non-empty string').max(255)).optional(),
  /** At most one unfinished job per key and queue: a repeated enqueue returns the existing job. */
  singletonKey: PolicyKey.optional(),
  /** At most one job per key and queue per window; later enqueues in the window return that job. */
  throttle: PolicyWindow.optional(),
  /** The last enqueue in a window wins: it replaces the input of the pending job and pushes its start to the window's end. */
  debounce: PolicyWindow.optional(),
  /** Name of a job definition (`job_definitions.name`) whose defaults and input schema apply. */
  definition: StorableText.pipe(z.string().min(1).max(200)).optional(),
  traceparent: z.string().regex(TRACEPARENT, 'traceparent must be a W3C trace context header').optional(),
});
export type JobSpec = z.input<typeof JobSpecSchema>;
export type ParsedJobSpec = z.output<typeof JobSpecSchema>;

// zod → ValidationError (defined in db/parse.ts so db/ can use it without importing this file).
export { parseOrThrow, toValidationError } from './db/parse.js';

// PostgreSQL jsonb cannot store NUL characters or unpaired surrogates: reject them with a
// clear message instead of letting the insert fail deep inside a batch. JSON.stringify writes
// exactly those (and only those) as \u escapes; an even run of backslashes before one is an
// escaped backslash, not an escape.
const UNSTORABLE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Serialises a job input (or output) to the JSON text stored in jsonb, enforcing that it is
 * JSON-serialisable, storable and within `maxBytes`. `undefined` is stored as SQL NULL.
 */
export function serialiseJson(value: unknown, field: string, maxBytes: number): string | null {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    if (err instanceof RangeError) {
      throw ValidationError.field(field, 'is nested too deeply to serialise (thousands of levels); flatten it');
    }
    throw ValidationError.field(
      field,
      `is not JSON-serialisable (${(err as Error).message}); pass plain objects, arrays, strings, numbers, booleans or null`,
    );
  }
  if (text === undefined) {
    throw ValidationError.field(field, `is not JSON-serialisable (${typeof value}); pass plain JSON data`);
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short texts skip the byte count (this runs for
  // every enqueued input and every handler output).
  const bytes = text.length * 3 <= maxBytes ? 0 : Buffer.byteLength(text);
  if (bytes > maxBytes) {
    throw ValidationError.field(
      field,
      `is ${bytes} bytes of JSON, over the ${maxBytes}-byte limit (maxInputBytes); store large payloads elsewhere and pass a reference`,
    );
  }
  // JSON.stringify writes NUL and lone surrogates only as \u escapes: no "\u", nothing to check.
  if (text.includes('\\u') && UNSTORABLE.test(text)) {
    throw ValidationError.field(field, 'contains a NUL character or an unpaired UTF-16 surrogate, which PostgreSQL jsonb cannot store');
  }
  return text;
}
