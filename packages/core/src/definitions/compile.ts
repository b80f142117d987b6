import { z } from 'zod';

/**
 * zod's fromJSONSchema only enforces `required` names that also appear in `properties`; JSON
 * Schema requires them regardless. Adding an unconstrained property for each missing name
 * keeps the standard meaning. Returns a copy; the stored schema is left as written.
 */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);

export function normaliseJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normaliseJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  // Values in these keywords are data, not schemas: copied as they are.
  for (const [k, v] of Object.entries(node)) out[k] = DATA_KEYWORDS.has(k) ? v : normaliseJsonSchema(v);
  if (Array.isArray(out.required) && out.required.every((r) => typeof r === 'string')) {
    const props = { ...((out.properties && typeof out.properties === 'object' ? out.properties : {}) as Record<string, unknown>) };
    for (const r of out.required as string[]) if (!(r in props)) props[r] = {};
    out.properties = props;
  }
  return out;
}

export function compileInputSchema(schema: Record<string, unknown>): z.ZodType {
  return z.fromJSONSchema(normaliseJsonSchema(schema) as Parameters<typeof z.fromJSONSchema>[0]);
}
