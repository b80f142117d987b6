/**
 * Cron evaluation, all of it delegated to croner (no hand-written parser): 5 fields, or 6 with
 * seconds first, the @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly aliases, IANA
 * zones. DST follows croner's rules (shared with croner-rust and close to Vixie cron):
 *
 * - a fixed-time expression (single second, minute and hour, e.g. `30 2 * * *`) whose time falls
 *   in a spring-forward gap runs once when the clock jumps (03:00 in Berlin), and a time that
 *   occurs twice in a fall-back runs once, at its first occurrence;
 * - an interval expression (`*\/30 * * * *`) skips times in the gap and runs on both occurrences
 *   of a repeated time, so its runs stay evenly spaced in real time.
 */
import { Cron } from 'croner';

/** Seven-field (year) patterns are refused: the contract is "5 fields plus optional seconds". */
const MODE = '5-or-6-parts' as const;

export interface CompiledCron {
  expression: string;
  timezone: string;
  cron: Cron;
}

/** Compiles an expression; throws croner's error (which names the bad part) when invalid. */
export function compileCron(expression: string, timezone: string): CompiledCron {
  return { expression, timezone, cron: new Cron(expression, { timezone, mode: MODE }) };
}

/** The reason an expression or zone is invalid, or undefined when both are fine. */
export function validateCron(expression: string, timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return `time zone "${timezone}" is not an IANA zone`;
  }
  let c: Cron;
  try {
    c = new Cron(expression, { timezone, mode: MODE });
  } catch (err) {
    const msg = (err as Error).message.replace(/^CronPattern: /, '');
    return `"${expression}" is not a cron expression (${msg}); use 5 fields (min hour day month weekday), 6 with seconds first, or an alias such as @hourly`;
  }
  if (c.nextRun(new Date()) === null) return `"${expression}" never fires`;
  return undefined;
}

export interface Occurrences {
  /** Ascending. */
  times: Date[];
  /** More occurrences existed in the range than `max`; `times` holds the latest `max` of them. */
  truncated: boolean;
}

/**
 * Occurrences in (after, until], ascending, at most `max`. When there are more, the latest
 * `max` are returned (what catch-up cares about) and `truncated` is set — so a schedule that
 * fires every second and was down for a year costs `max` steps, not 31 million.
 */
export function occurrencesBetween(c: CompiledCron, after: Date, until: Date, max: number): Occurrences {
  const times: Date[] = [];
  const it = c.cron.enumerate(after);
  for (;;) {
    const r = it.next();
    if (r.done || r.value.getTime() > until.getTime()) return { times, truncated: false };
    if (times.length === max) break;
    times.push(r.value);
  }
  // Too many: take the latest `max` by walking back from `until` (inclusive).
  const back = c.cron.previousRuns(max, new Date(until.getTime() + 1)).filter((d) => d.getTime() > after.getTime());
  return { times: back.reverse(), truncated: true };
}

/** The first `n` occurrences strictly after `after`. */
export function nextOccurrences(c: CompiledCron, after: Date, n: number): Date[] {
  return c.cron.nextRuns(n, after);
}
