/**
 * Output → input passing. A node's input may contain values `{"$ref": "<parentKey>.output"}` or
 * `{"$ref": "<parentKey>.output.<path>"}` (path segments separated by dots; numeric segments
 * index arrays). They are resolved once, in the transaction that releases the node, and the
 * resolved input is stored on the node's job — so handlers, process jobs, `getJob` and events
 * all see plain input, and a retry sees exactly the same input.
 *
 * Only objects with exactly one key `$ref` whose value starts with the key of a node of the same
 * DAG followed by a dot are references; anything else (e.g. a JSON Schema `"$ref": "#/defs/x"`)
 * is kept literally.
 */
import { ErrorCode, JoblineError } from '../db/errors.js';

export interface RefUse {
  /** Dotted path of the `$ref` object inside the input, e.g. `input.files.0`. */
  at: string;
  ref: string;
  /** The node key the reference names. */
  node: string;
  /** Segments after `output`; empty for the whole output. */
  path: string[];
  /** Malformed reference text (the node exists but the rest is not `.output[.path]`). */
  malformed: boolean;
}

const KEY_PREFIX = /^([A-Za-z0-9_-]{1,128})\.(.*)$/s;

function asRef(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1 || keys[0] !== '$ref') return undefined;
  const ref = (v as { $ref: unknown }).$ref;
  return typeof ref === 'string' ? ref : undefined;
}

function parseRef(ref: string, isNode: (key: string) => boolean): Omit<RefUse, 'at'> | undefined {
  const m = KEY_PREFIX.exec(ref);
  if (!m || !isNode(m[1])) return undefined;
  const [head, ...path] = m[2].split('.');
  const malformed = head !== 'output' || path.some((p) => p === '');
  return { ref, node: m[1], path, malformed };
}

/** Every reference in `input` to a node for which `isNode` is true. Iterative: inputs may be deep. */
export function findRefs(input: unknown, isNode: (key: string) => boolean, base = 'input'): RefUse[] {
  const found: RefUse[] = [];
  const stack: [unknown, string][] = [[input, base]];
  while (stack.length) {
    const [v, at] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const ref = asRef(v);
    if (ref !== undefined) {
      const r = parseRef(ref, isNode);
      if (r) {
        found.push({ ...r, at });
        continue;
      }
    }
    for (const [k, child] of Object.entries(v)) stack.push([child, `${at}.${k}`]);
  }
  return found;
}

export class RefError extends JoblineError {
  override readonly code = ErrorCode.DagRef;
  constructor(
    readonly at: string,
    readonly ref: string,
    reason: string,
  ) {
    super(`${at}: $ref "${ref}" ${reason}`);
    this.name = 'RefError';
  }
}

/**
 * Returns `input` with every reference replaced by the named parent's output (or a part of it).
 * `outputs` holds the outputs of the node's parents (null for a parent that returned nothing).
 * A path that does not exist in the output throws RefError: a silent null would surface far
 * away as a confusing handler error.
 */
export function resolveRefs(input: unknown, outputs: Record<string, unknown>): unknown {
  const isParent = (k: string) => Object.hasOwn(outputs, k);
  const walk = (v: unknown, at: string): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    const ref = asRef(v);
    if (ref !== undefined) {
      const r = parseRef(ref, isParent);
      if (r) return lookup(outputs[r.node], r.path, at, ref);
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${at}.${i}`));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, `${at}.${k}`);
    return out;
  };
  return walk(input, 'input');
}

function lookup(output: unknown, path: string[], at: string, ref: string): unknown {
  let cur: unknown = output ?? null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const ok = typeof cur === 'object' && cur !== null && Object.hasOwn(cur, seg) && (!Array.isArray(cur) || /^\d+$/.test(seg));
    if (!ok) {
      const where = path.slice(0, i).join('.') || '(the whole output)';
      throw new RefError(at, ref, `cannot be resolved: the parent's output has no "${seg}" under ${where}`);
    }
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}
