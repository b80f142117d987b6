/** Human output: aligned tables, durations, relative times; machines get --json instead. */

export interface Column<T> {
  header: string;
  get: (row: T) => string | number | undefined | null;
  /** Right-align (numbers). */
  right?: boolean;
  /** Cut longer cells to this many characters. */
  max?: number;
}

export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) =>
    columns.map((c) => {
      const v = c.get(r);
      let s = v === undefined || v === null ? '-' : String(v).replace(/\s+/g, ' ');
      if (c.max && s.length > c.max) s = s.slice(0, c.max - 1) + '…';
      return s;
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (columns[i].right ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

export function duration(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function ago(d: Date | undefined, now = Date.now()): string {
  if (!d) return '-';
  const diff = now - d.getTime();
  return `${d.toISOString()} (${diff >= 0 ? `${duration(diff)} ago` : `in ${duration(-diff)}`})`;
}

/** One-line JSON for a value shown in a human view, cut to `max` characters. */
export function brief(v: unknown, max = 200): string {
  if (v === undefined) return '-';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** A progress bar for terminals: `[██████░░░░] 60%`. */
export function bar(done: number, total: number, width = 24): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const n = Math.round(f * width);
  return `[${'█'.repeat(n)}${'░'.repeat(width - n)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}

export const writeJson = (v: unknown) => process.stdout.write(JSON.stringify(v, null, 2) + '\n');
