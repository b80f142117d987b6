import type { z } from 'zod';
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

/** The fields a definition fills in on a job spec or a DAG node. */
export interface DefinedFields {
  name?: string;
  queue?: string;
  priority?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  definition?: string;
}

/**
 * The one definition-application path, shared by enqueue (`applyDefinitions`), DAG submit
 * (`applyNodeDefinitions`) and schedule job templates (which go through enqueue's): each item
 * whose `definition` is a string is parsed, all are loaded in one query, and each input is
 * checked against its definition's schema unless `checkInput(i)` says not yet (DAG inputs with
 * `$ref`s are checked once resolved). Every bad field is named in one ValidationError, at the
 * path `at(i, field)` gives; nothing is written. Returns each item's definition, or undefined.
 */
export async function resolveDefinitions(
  db: Queryable,
  s: string,
  items: readonly unknown[],
  at: (i: number, field: string) => string,
  checkInput: (i: number) => boolean = () => true,
): Promise<(Definition | undefined)[]> {
  const refOf = (item: unknown) => (isSpecObject(item) && typeof item.definition === 'string' ? item.definition : undefined);
  const refs = new Map<string, DefinitionRef>();
  const issues: FieldIssue[] = [];
  items.forEach((item, i) => {
    const text = refOf(item);
    if (text === undefined) return;
    const ref = parseDefinitionRef(text);
    if (!ref) issues.push({ path: at(i, 'definition'), message: 'use a definition name or name@version' });
    else refs.set(refKey(ref), ref);
  });
  if (issues.length) throw new ValidationError(issues);
  if (refs.size === 0) return items.map(() => undefined);

  const found = await findDefinitions(db, s, [...refs.values()]);
  const out = items.map((item, i) => {
    const text = refOf(item);
    if (text === undefined) return undefined;
    const d = found.get(refKey(parseDefinitionRef(text)!));
    if (!d) {
      issues.push({
        path: at(i, 'definition'),
        message: `no job definition "${text}" exists; register it first (POST /v1/definitions or jl.createDefinition)`,
      });
      return undefined;
    }
    if (checkInput(i)) issues.push(...validateDefinitionInput(d, (item as { input?: unknown }).input, at(i, 'input')));
    return d;
  });
  if (issues.length) throw new ValidationError(issues);
  return out;
}

/**
 * The item with its definition applied: missing fields take the definition's defaults (the
 * item's own fields win; the queue row's come later, at insert), the name defaults to the
 * definition's name, and `definition` is pinned to `name@version`.
 */
export function withDefinitionDefaults<T extends DefinedFields>(item: T, d: Definition): T & { name: string; definition: string } {
  const dflt = d.defaults;
  return {
    ...item,
    name: item.name ?? d.name,
    queue: item.queue ?? dflt.queue,
    priority: item.priority ?? dflt.priority,
    maxAttempts: item.maxAttempts ?? dflt.maxAttempts,
    timeoutMs: item.timeoutMs ?? dflt.timeoutMs,
    definition: formatDefinitionRef(d),
  };
}

/**
 * Resolves `definition` on job specs before they are validated and written (resolveDefinitions,
 * then withDefinitionDefaults). Specs without a definition pass through untouched; malformed
 * specs are left for the job schema to report.
 */
export async function applyDefinitions(db: Queryable, s: string, specs: readonly JobSpec[], single: boolean): Promise<JobSpec[]> {
  const defs = await resolveDefinitions(db, s, specs, (i, field) => (single ? field : `jobs.${i}.${field}`));
  return specs.map((spec, i) => {
    const d = defs[i];
    return d ? (withDefinitionDefaults(spec as DefinedFields, d) as JobSpec) : spec;
  });
}
