import {
  ConflictError,
  DuplicateError,
  ForeignKeyError,
  JoblineError,
  NotFoundError,
  ValidationError,
  type FieldIssue,
} from '@jobline/core';

/** An error with an HTTP status, thrown by routes and the request plumbing. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: FieldIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ErrorResponse {
  status: number;
  body: { error: { code: string; message: string; issues?: FieldIssue[] } };
  headers: Record<string, string>;
  /** A 5xx: logged with its stack. */
  unexpected: boolean;
}

// PostgreSQL errors that can only come from values we were given: invalid text encoding,
// numbers out of range, bad datetime values. They are the caller's input, so a 400.
const INPUT_PG_CODES = new Set(['22021', '22P05', '22003', '22008', '22007', '22P02', '54000']);

/** Maps any thrown value to a response: typed errors to 4xx, everything else to a 500. */
export function toErrorResponse(err: unknown): ErrorResponse {
  const make = (status: number, code: string, message: string, issues?: FieldIssue[], headers: Record<string, string> = {}) => ({
    status,
    body: { error: { code, message, ...(issues ? { issues } : {}) } },
    headers,
    unexpected: status >= 500,
  });
  if (err instanceof HttpError) return make(err.status, err.code, err.message, err.issues, err.headers);
  if (err instanceof ValidationError) return make(400, 'VALIDATION', 'the request has invalid fields; see issues', err.issues);
  if (err instanceof NotFoundError) return make(404, 'NOT_FOUND', err.message);
  if (err instanceof DuplicateError) return make(409, 'DUPLICATE', err.message);
  if (err instanceof ConflictError) return make(409, 'CONFLICT', err.message);
  if (err instanceof ForeignKeyError) return make(400, 'FOREIGN_KEY', err.message);
  if (err instanceof JoblineError) return make(400, err.code, err.message);
  const pgCode = (err as { code?: unknown })?.code;
  if (typeof pgCode === 'string' && INPUT_PG_CODES.has(pgCode)) {
    return make(400, 'VALIDATION', `the database refused a value: ${(err as Error).message}`, [
      { path: '', message: (err as Error).message },
    ]);
  }
  return make(500, 'INTERNAL', 'internal error; the server log has the details');
}
