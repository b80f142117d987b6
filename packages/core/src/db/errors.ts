/**
 * Typed errors (DESIGN §2). Each carries the context a caller needs and a message that says
 * what to do next. `code` is stable and is what the HTTP layer maps to a status.
 */
export interface FieldIssue {
  /** Dotted path of the bad field, e.g. `jobs.3.priority`. */
  path: string;
  message: string;
}

export class JoblineError extends Error {
  readonly code: string = 'JOBLINE_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends JoblineError {
  override readonly code = 'VALIDATION';
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; '));
  }
  static field(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

export class NotFoundError extends JoblineError {
  override readonly code = 'NOT_FOUND';
  constructor(readonly entity: string, readonly id: string | number) {
    super(`${entity} ${id} does not exist (check the id, or whether retention already removed it)`);
  }
}

export class DuplicateError extends JoblineError {
  override readonly code = 'DUPLICATE';
  constructor(readonly entity: string, readonly key: string, options?: { cause?: unknown }) {
    super(`${entity} with ${key} already exists`, options);
  }
}

export class ForeignKeyError extends JoblineError {
  override readonly code = 'FOREIGN_KEY';
  constructor(readonly entity: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`${entity} refers to something that does not exist: ${detail}`, options);
  }
}

/** A write lost a race it must not win, e.g. a fenced completion of an attempt that was rescued. */
export class ConflictError extends JoblineError {
  override readonly code = 'CONFLICT';
  constructor(message: string, readonly context: Record<string, unknown> = {}) {
    super(message);
  }
}

export class MigrationError extends JoblineError {
  override readonly code = 'MIGRATION';
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
