/**
 * Validation of a DAG spec before anything is written: the zod shape, then the graph — unique
 * keys, known parents, no self-dependency, no cycles (reported with the cycle path), `$ref`s only
 * to declared parents — and the limits. Every problem is reported at once, each with the path
 * of the offending field (`nodes.3.dependsOn.1`).
 */
import { ValidationError, type FieldIssue } from '../db/errors.js';
import { serialiseJson, toValidationError } from '../schemas.js';
import { findRefs } from './refs.js';
import { DagSpecSchema, type DagLimits, type ParsedDagNodeSpec, type ParsedDagSpec } from './spec.js';

export interface PreparedNode extends ParsedDagNodeSpec {
  /** Parents, deduplicated, in the order given. */
  dependsOn: string[];
  children: string[];
  inputJson: string | null;
  /** The input holds `$ref`s, resolved when the node is released. */
  hasRefs: boolean;
}

export interface PreparedDag extends Omit<ParsedDagSpec, 'nodes'> {
  nodes: PreparedNode[];
  edgeCount: number;
}

export function prepareDag(raw: unknown, limits: DagLimits): PreparedDag {
  // Count first: parsing a million nodes only to reject them would be the expensive way.
  const count = Array.isArray((raw as { nodes?: unknown })?.nodes) ? (raw as { nodes: unknown[] }).nodes.length : 0;
  if (count > limits.maxNodes) {
    throw ValidationError.field(
      'nodes',
      `has ${count} nodes, over the limit of ${limits.maxNodes} per DAG (maxDagNodes); split the work into several runs or raise the limit`,
    );
  }
  const r = DagSpecSchema.safeParse(raw);
  if (!r.success) throw toValidationError(r.error);
  const spec = r.data;
  const issues: FieldIssue[] = [];

  const index = new Map<string, number>();
  spec.nodes.forEach((n, i) => {
    const first = index.get(n.key);
    if (first !== undefined)
      issues.push({
        path: `nodes.${i}.key`,
        message: `duplicate key "${n.key}" (first used by nodes.${first}); keys must be unique within a DAG`,
      });
    else index.set(n.key, i);
  });

  let edgeCount = 0;
  const nodes: PreparedNode[] = spec.nodes.map((n, i) => {
    const deps = [...new Set(n.dependsOn)];
    n.dependsOn.forEach((p, j) => {
      if (p === n.key) issues.push({ path: `nodes.${i}.dependsOn.${j}`, message: `node "${n.key}" depends on itself` });
      else if (!index.has(p))
        issues.push({
          path: `nodes.${i}.dependsOn.${j}`,
          message: `unknown node "${p}": dependsOn must name keys of other nodes in this DAG`,
        });
    });
    edgeCount += deps.length;
    const parents = new Set(deps);
    const refs = findRefs(n.input, (k) => index.has(k), `nodes.${i}.input`);
    for (const ref of refs) {
      if (ref.malformed)
        issues.push({
          path: ref.at,
          message: `$ref "${ref.ref}" is malformed: write "<parentKey>.output" or "<parentKey>.output.<field>[.<field>…]"`,
        });
      else if (!parents.has(ref.node))
        issues.push({
          path: ref.at,
          message: `$ref "${ref.ref}" names node "${ref.node}", which is not in dependsOn of "${n.key}"; add it to dependsOn`,
        });
    }
    let inputJson: string | null = null;
    try {
      inputJson = serialiseJson(n.input, `nodes.${i}.input`, limits.maxInputBytes);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      issues.push(...err.issues);
    }
    return { ...n, dependsOn: deps, children: [], inputJson, hasRefs: refs.length > 0 };
  });
  if (edgeCount > limits.maxEdges) {
    issues.push({
      path: 'nodes',
      message: `has ${edgeCount} dependency edges, over the limit of ${limits.maxEdges} per DAG (maxDagEdges); split the work into several runs or raise the limit`,
    });
  }
  if (issues.length) throw new ValidationError(issues);

  for (const n of nodes) for (const p of n.dependsOn) nodes[index.get(p)!].children.push(n.key);
  const cycle = findCycle(nodes, index);
  if (cycle) {
    const at = index.get(cycle[1])!;
    throw ValidationError.field(
      `nodes.${at}.dependsOn`,
      `dependencies form a cycle: ${formatCycle(cycle)} (each node must finish before the next starts, so none can start); remove one of these dependencies`,
    );
  }
  return { ...spec, nodes, edgeCount };
}

/** Long cycles are shortened in the middle so the message stays readable. */
function formatCycle(cycle: string[]): string {
  if (cycle.length <= 21) return cycle.join(' -> ');
  return [...cycle.slice(0, 10), `… ${cycle.length - 20} more …`, ...cycle.slice(-10)].join(' -> ');
}

/**
 * Depth-first search along parent → child edges, iterative so that a 10,000-node chain cannot
 * overflow the stack. Returns the cycle as keys in run order with the first repeated at the end.
 */
function findCycle(nodes: PreparedNode[], index: Map<string, number>): string[] | undefined {
  const WHITE = 0,
    GREY = 1,
    BLACK = 2;
  const color = new Uint8Array(nodes.length);
  const parentOf = new Int32Array(nodes.length).fill(-1);
  for (let root = 0; root < nodes.length; root++) {
    if (color[root] !== WHITE) continue;
    const stack: [number, number][] = [[root, 0]];
    color[root] = GREY;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [u, next] = top;
      const kids = nodes[u].children;
      if (next >= kids.length) {
        color[u] = BLACK;
        stack.pop();
        continue;
      }
      top[1]++;
      const v = index.get(kids[next])!;
      if (color[v] === GREY) {
        const path = [nodes[v].key];
        for (let w = u; w !== v; w = parentOf[w]) path.push(nodes[w].key);
        path.push(nodes[v].key);
        // Collected backwards (from u up to v); reverse into run order v -> … -> u -> v.
        return [path[0], ...path.slice(1, -1).reverse(), path[path.length - 1]];
      }
      if (color[v] === WHITE) {
        color[v] = GREY;
        parentOf[v] = u;
        stack.push([v, 0]);
      }
    }
  }
  return undefined;
}
