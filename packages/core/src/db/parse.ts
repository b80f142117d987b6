/**
 * zod results turned into our ValidationError. Lives in db/ next to the error classes so db/
 * modules (connection-options.ts) can validate without importing schemas.ts, which imports db/
 * (that pair was a folder cycle); schemas.ts re-exports both for everyone else.
 */
import type { z } from 'zod';
import { ValidationError, type FieldIssue } from './errors.js';

/** Turns a zod error into our ValidationError, each issue with a dotted path. */
export function toValidationError(err: z.ZodError, prefix = ''): ValidationError {
  const issues: FieldIssue[] = err.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.message,
  }));
  return new ValidationError(issues);
}

/** Parses `value` with `schema`, throwing a ValidationError that names each bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw toValidationError(r.error, prefix);
  return r.data;
}
