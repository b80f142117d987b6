/**
 * Typed errors (DESIGN §2). Each carries the context a caller needs and a message that says
 * what to do next. `code` is stable and is what the HTTP layer maps to a status.
 *
 * One tree: every error Jobline throws or records extends JoblineError, and its `code` is one of
 * ErrorCode (each code names exactly one class; test/error-tree.test.ts checks both). Match on
 * `instanceof` where you hold the error, on `code` where it was serialised (a job's `error`
 * record, an HTTP body, an attempt outcome): names are for people and may change.
 */
export const ErrorCode = {
  Jobline: 'JOBLINE_ERROR',
  Validation: 'VALIDATION',
  NotFound: 'NOT_FOUND',
  Duplicate: 'DUPLICATE',
  ForeignKey: 'FOREIGN_KEY',
  Conflict: 'CONFLICT',
  Migration: 'MIGRATION',
  EmbeddedUnavailable: 'EMBEDDED_UNAVAILABLE',
  NonRetryable: 'NON_RETRYABLE',
  Timeout: 'TIMEOUT',
  Cancelled: 'CANCELLED',
  Shutdown: 'SHUTDOWN',
  DagRef: 'DAG_REF',
  ProcessExit: 'PROCESS_EXIT',
  ContainerExit: 'CONTAINER_EXIT',
  ImageMissing: 'IMAGE_MISSING',
  ImagePullFailed: 'IMAGE_PULL_FAILED',
  BadOutput: 'BAD_OUTPUT',
  DockerApi: 'DOCKER_API',
  DockerUnreachable: 'DOCKER_UNREACHABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface FieldIssue {
  /** Dotted path of the bad field, e.g. `jobs.3.priority`. */
  path: string;
  message: string;
}

export class JoblineError extends Error {
  readonly code: string = ErrorCode.Jobline;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends JoblineError {
  override readonly code = ErrorCode.Validation;
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; '));
  }
  static field(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

export class NotFoundError extends JoblineError {
  override readonly code = ErrorCode.NotFound;
  constructor(
    readonly entity: string,
    readonly id: string | number,
  ) {
    super(`${entity} ${id} does not exist (check the id, or whether retention already removed it)`);
  }
}

export class DuplicateError extends JoblineError {
  override readonly code = ErrorCode.Duplicate;
  constructor(
    readonly entity: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`${entity} with ${key} already exists`, options);
  }
}

export class ForeignKeyError extends JoblineError {
  override readonly code = ErrorCode.ForeignKey;
  constructor(
    readonly entity: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${entity} refers to something that does not exist: ${detail}`, options);
  }
}

/** A write lost a race it must not win, e.g. a fenced completion of an attempt that was rescued. */
export class ConflictError extends JoblineError {
  override readonly code = ErrorCode.Conflict;
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class MigrationError extends JoblineError {
  override readonly code = ErrorCode.Migration;
}

/**
 * Throw this (or any error with `retryable: false`) from a handler to fail the job for good
 * without using its remaining attempts.
 */
export class NonRetryableError extends JoblineError {
  // `string`, not the literal: executors' subclasses (IMAGE_MISSING, BAD_OUTPUT) have codes of their own.
  override readonly code: string = ErrorCode.NonRetryable;
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/** The abort reason of an attempt whose job was cancelled (or whose fence was lost on heartbeat). */
export class CancelledError extends JoblineError {
  override readonly code = ErrorCode.Cancelled;
  constructor() {
    super('the job was cancelled');
  }
}

/** The abort reason of attempts still running when their worker's shutdown grace ends. */
export class ShutdownError extends JoblineError {
  override readonly code = ErrorCode.Shutdown;
  constructor() {
    super('the worker is shutting down');
  }
}

interface PgErrorLike {
  code?: string;
  table?: string;
  constraint?: string;
  detail?: string;
}

/** Translates PostgreSQL constraint errors into typed errors; anything else is returned as is. */
export function fromPgError(err: unknown, entity = 'row'): unknown {
  const e = err as PgErrorLike;
  if (!e || typeof e.code !== 'string') return err;
  switch (e.code) {
    case '23505':
      return new DuplicateError(entity, e.detail ?? e.constraint ?? 'that key', { cause: err });
    case '23503':
      return new ForeignKeyError(entity, e.detail ?? e.constraint ?? 'a referenced row', { cause: err });
    case '22P02':
    case '22003':
    case '22007':
    case '22008':
    case '23514':
      return new ValidationError([{ path: e.constraint ?? '', message: (err as Error).message }]);
    default:
      return err;
  }
}
