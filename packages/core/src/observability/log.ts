import pino, { type Logger } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** One pino JSON line as a human line: `12:00:01.123 INFO  msg  key=value …`. */
export function prettyLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return line;
  }
  const t = new Date(typeof o.time === 'number' ? o.time : Date.now()).toISOString().slice(11, 23);
  const level = (LEVELS[o.level as number] ?? String(o.level)).padEnd(5);
  const name = o.name ? `[${o.name}] ` : '';
  const rest = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => {
      if (k === 'err' && v && typeof v === 'object') return `err=${JSON.stringify((v as { message?: unknown }).message ?? v)}`;
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    })
    .join(' ');
  return `${t} ${level} ${name}${o.msg ?? ''}${rest ? `  ${rest}` : ''}`;
}

export interface AppLoggerOptions {
  /** @default process.env.LOG_LEVEL ?? 'info' */
  level?: string;
  /** Human-readable lines instead of JSON (ask for it: LOG_FORMAT=pretty or --pretty). @default false */
  pretty?: boolean;
  /** Added to every line as `name`. */
  name?: string;
}

/**
 * The apps' logger: pino JSON on stderr (stdout stays for command output), pretty only when
 * asked — a small synchronous formatter here rather than a transport dependency.
 */
export function createAppLogger(o: AppLoggerOptions = {}): Logger {
  const level = o.level ?? process.env.LOG_LEVEL ?? 'info';
  const base = { pid: process.pid, ...(o.name ? { name: o.name } : {}) };
  if (!o.pretty) return pino({ level, base }, pino.destination({ fd: 2, sync: true }));
  const stream = {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) process.stderr.write(prettyLine(line) + '\n');
    },
  };
  return pino({ level, base }, stream);
}
