/** Exit codes scripts can rely on. */
export const ExitCode = {
  ok: 0,
  /** The command was valid but the operation failed (not found, database down, job failed with --wait). */
  failure: 1,
  /** Bad usage: unknown command or flag, missing argument, invalid value or configuration. */
  usage: 2,
} as const;

/** Wrong command line or configuration: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
