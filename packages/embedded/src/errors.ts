/**
 * The one error this package throws on purpose: its message is a single line that names what is
 * missing or unreachable and the fix, so a CLI can print it as is (no stack trace needed).
 */
export class EmbeddedPostgresError extends Error {
  readonly code = 'EMBEDDED_POSTGRES';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
  }
}
