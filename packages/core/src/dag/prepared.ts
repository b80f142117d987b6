import { createHash } from 'node:crypto';

const cache = new Map<string, { name: string; text: string }>();

/**
 * A named (prepared) statement for a SQL text: PostgreSQL parses and plans it once per
 * connection. The DAG statements are long CTE chains whose planning cost more than their
 * execution in a completion transaction (measured ~2 ms → see README.md). The name is derived
 * from the text, so each schema's variant gets its own statement.
 */
export function prepared(text: string): { name: string; text: string } {
  let p = cache.get(text);
  if (!p) {
    p = { name: `jobline_dag_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text };
    cache.set(text, p);
  }
  return p;
}

/** Memoises a per-schema SQL builder into its prepared statement. */
export function statement(build: (s: string) => string): (s: string) => { name: string; text: string } {
  const bySchema = new Map<string, { name: string; text: string }>();
  return (s) => {
    let p = bySchema.get(s);
    if (!p) bySchema.set(s, (p = prepared(build(s))));
    return p;
  };
}
