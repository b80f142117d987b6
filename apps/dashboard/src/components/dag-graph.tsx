import type { DagDetail, DagNode } from '../api';
import { STATE_COLORS } from './ui';

const W = 156;
const H = 46;
const GAP_X = 70;
const GAP_Y = 22;

/**
 * A layered drawing: a node's column is its longest path from a root, so every edge points
 * right; within a column nodes are ordered by the mean row of their parents (one barycentre
 * pass), which untangles the usual fan-out/fan-in shapes.
 */
export function layout(run: DagDetail): { pos: Map<string, { x: number; y: number }>; width: number; height: number } {
  const byKey = new Map(run.nodes.map((n) => [n.key, n]));
  const depth = new Map<string, number>();
  const visit = (k: string, seen: Set<string>): number => {
    const d = depth.get(k);
    if (d !== undefined) return d;
    if (seen.has(k)) return 0; // validated acyclic at submission; guards anyway
    seen.add(k);
    const n = byKey.get(k);
    const v = n && n.dependsOn.length ? Math.max(...n.dependsOn.map((p) => visit(p, seen))) + 1 : 0;
    depth.set(k, v);
    return v;
  };
  run.nodes.forEach((n) => visit(n.key, new Set()));
  const columns: DagNode[][] = [];
  for (const n of run.nodes) (columns[depth.get(n.key)!] ??= []).push(n);
  const row = new Map<string, number>();
  columns.forEach((col, ci) => {
    if (ci > 0) {
      const bary = (n: DagNode) => n.dependsOn.reduce((s, p) => s + (row.get(p) ?? 0), 0) / Math.max(1, n.dependsOn.length);
      col.sort((a, b) => bary(a) - bary(b));
    }
    col.forEach((n, i) => row.set(n.key, i));
  });
  const tallest = Math.max(...columns.map((c) => c.length));
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, ci) => {
    const offset = ((tallest - col.length) * (H + GAP_Y)) / 2;
    col.forEach((n, i) => pos.set(n.key, { x: 10 + ci * (W + GAP_X), y: 10 + offset + i * (H + GAP_Y) }));
  });
  return { pos, width: 20 + columns.length * (W + GAP_X) - GAP_X, height: 20 + tallest * (H + GAP_Y) - GAP_Y };
}

export function DagGraph({ run, selected, onSelect }: { run: DagDetail; selected?: string; onSelect(key: string): void }) {
  const { pos, width, height } = layout(run);
  return (
    <svg
      class="dag"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      data-testid="dag-graph"
      role="img"
      aria-label={`DAG run ${run.id}`}
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" fill="#64748b" />
        </marker>
      </defs>
      {run.edges.map((e) => {
        const a = pos.get(e.from);
        const b = pos.get(e.to);
        if (!a || !b) return null;
        const x1 = a.x + W;
        const y1 = a.y + H / 2;
        const x2 = b.x - 2;
        const y2 = b.y + H / 2;
        const mid = (x1 + x2) / 2;
        return (
          <path
            key={`${e.from}->${e.to}`}
            class="edge"
            data-edge={`${e.from}->${e.to}`}
            d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
            marker-end="url(#arrow)"
          />
        );
      })}
      {run.nodes.map((n) => {
        const p = pos.get(n.key)!;
        const color = STATE_COLORS[n.state] ?? '#64748b';
        return (
          <g
            key={n.key}
            class={`node ${selected === n.key ? 'selected' : ''}`}
            data-node={n.key}
            data-state={n.state}
            transform={`translate(${p.x},${p.y})`}
            onClick={() => onSelect(n.key)}
            tabIndex={0}
            onKeyDown={(e) => e.key === 'Enter' && onSelect(n.key)}
          >
            <rect width={W} height={H} rx="8" fill={color} class={n.state === 'running' ? 'pulse' : ''} />
            <text x="12" y="19" class="node-key">
              {n.key.length > 18 ? `${n.key.slice(0, 17)}…` : n.key}
            </text>
            <text x="12" y="35" class="node-sub">
              {n.state}
              {n.attempt > 1 ? ` · attempt ${n.attempt}` : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
