import pino, { type Logger } from 'pino';

/**
 * The default logger: pino JSON to stderr at LOG_LEVEL (default `info`), so stdout stays free
 * for command output. Pretty output is the caller's choice (pipe through pino-pretty).
 */
export function defaultLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'info', base: { pid: process.pid } }, pino.destination(2));
}

export type { Logger };
