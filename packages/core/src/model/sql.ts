/**
 * Renders model constants into SQL text, so a state or event name is never retyped inside a
 * statement. The output is plain SQL literal text (not a bind parameter) on purpose: partial
 * indexes (`where state = 'available'`) only match a query whose predicate has the constant in
 * its text, and prepared statements keep one plan per text.
 *
 * Only values from this codebase's constants are rendered — never user input (that is what bind
 * parameters are for); `sqlLit` still doubles quotes so any string is a valid literal.
 */

/** `'running'` */
export function sqlLit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `'completed', 'failed', 'cancelled'` — for `state in (${sqlList(JobFinished)})`. */
export function sqlList(values: readonly string[]): string {
  if (values.length === 0) throw new Error('sqlList: an empty list would render invalid SQL `in ()`');
  return values.map(sqlLit).join(', ');
}

/**
 * `case <expr> when 'a' then 'x' when 'b' then 'y' else 'z' end` from a TypeScript map, so a
 * mapping between two vocabularies (job state → node state, node state → event) exists once.
 */
export function sqlCase(expr: string, map: Readonly<Record<string, string>>, otherwise?: string): string {
  const arms = Object.entries(map).map(([k, v]) => `when ${sqlLit(k)} then ${sqlLit(v)}`);
  return `case ${expr} ${arms.join(' ')}${otherwise === undefined ? '' : ` else ${sqlLit(otherwise)}`} end`;
}

const MARK = '\u0000';

/**
 * A string-building function rendered as a SQL concatenation: `fn` is called with markers, the
 * text between markers becomes literals and each marker the SQL expression given for that
 * argument. So `sqlConcat(jobSubject, 'e.queue', 'e.event', 'e.id')` is
 * `'jobline.job.' || e.queue || '.' || e.event || '.' || e.id` — the subject format lives only
 * in `@jobline/contracts`' `jobSubject`, and SQL cannot drift from it.
 */
export function sqlConcat<A extends unknown[]>(fn: (...args: A) => string, ...exprs: { [K in keyof A]: string }): string {
  const marks = exprs.map((_, i) => `${MARK}${i}${MARK}`);
  const parts = fn(...(marks as unknown as A)).split(MARK);
  // parts alternate: literal, index, literal, index, …, literal
  const out: string[] = [];
  parts.forEach((p, i) => {
    if (i % 2 === 1) out.push(exprs[Number(p)]!);
    else if (p !== '') out.push(sqlLit(p));
  });
  if (out.length === 0) return "''";
  return out.join(' || ');
}
