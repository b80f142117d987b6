import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import type { JobSpec } from '../schemas.js';
import { compileInputSchema } from './compile.js';
import { findDefinitions, refKey } from './registry.js';
import { formatDefinitionRef, parseDefinitionRef, type Definition, type DefinitionRef } from './schema.js';

/**
 * Compiled input schemas by `name@version`. Versions are immutable, so entries never go stale;
 * the cap only bounds memory for registries with very many versions.
 */
const compiled = new Map<string, z.ZodType>();
const MAX_COMPILED = 1000;

export function inputValidator(d: Definition): z.ZodType | undefined {
  if (d.inputSchema === undefined) return undefined;
  const key = formatDefinitionRef(d);
  let schema = compiled.get(key);
  if (!schema) {
    schema = compileInputSchema(d.inputSchema);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, schema);
  }
  return schema;
}

/** Checks a job input against its definition's schema, naming each bad field under `prefix`. */
export function validateDefinitionInput(d: Definition, input: unknown, prefix = 'input'): FieldIssue[] {
  const schema = inputValidator(d);
  if (!schema) return [];
  const r = schema.safeParse(input);
  if (r.success) return [];
  return r.error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].join('.'),
    message: `${i.message} (definition ${formatDefinitionRef(d)} input schema)`,
  }));
}

const isSpecObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Resolves `definition` on job specs before they are validated and written: the job is pinned
 * to the definition's current version, missing fields take the definition's defaults (the
 * job's own fields win, then the definition's, then the queue row's), the name defaults to the
 * definition's name, and the input must satisfy the definition's JSON schema. Specs without a
 * definition pass through untouched; malformed specs are left for the job schema to report.
 */
export async function applyDefinitions(db: Queryable, s: string, specs: readonly JobSpec[], single: boolean): Promise<JobSpec[]> {
  const refs = new Map<string, DefinitionRef>();
  const issues: FieldIssue[] = [];
  const at = (i: number, field: string) => (single ? field : `jobs.${i}.${field}`);
  specs.forEach((spec, i) => {
    if (!isSpecObject(spec) || typeof spec.definition !== 'string') return;
    const ref = parseDefinitionRef(spec.definition);
    if (!ref) issues.push({ path: at(i, 'definition'), message: 'use a definition name or name@version' });
    else refs.set(refKey(ref), ref);
  });
  if (issues.length) throw new ValidationError(issues);
  if (refs.size === 0) return [...specs];

  const found = await findDefinitions(db, s, [...refs.values()]);
  const out = specs.map((spec, i) => {
    if (!isSpecObject(spec) || typeof spec.definition !== 'string') return spec;
    const d = found.get(refKey(parseDefinitionRef(spec.definition)!));
    if (!d) {
      issues.push({ path: at(i, 'definition'), message: `no job definition "${spec.definition}" exists; register it first (POST /v1/definitions or jl.createDefinition)` });
      return spec;
    }
    issues.push(...validateDefinitionInput(d, spec.input, at(i, 'input')));
    const dflt = d.defaults;
    return {
      ...spec,
      name: spec.name ?? d.name,
      queue: spec.queue ?? dflt.queue,
      priority: spec.priority ?? dflt.priority,
      maxAttempts: spec.maxAttempts ?? dflt.maxAttempts,
      timeoutMs: spec.timeoutMs ?? dflt.timeoutMs,
      definition: formatDefinitionRef(d),
    } as JobSpec;
  });
  if (issues.length) throw new ValidationError(issues);
  return out;
}
