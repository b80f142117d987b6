/**
 * Small SVG line charts: no charting library (a few hundred bytes instead of tens of kB).
 * `series` share the x axis (times) and one y axis starting at zero.
 */
export interface Series {
  name: string;
  color: string;
  points: { t: number; v: number }[];
}

export function LineChart(props: { series: Series[]; height?: number; from: number; to: number; format?: (v: number) => string }) {
  const { series, height = 160, from, to, format = fmt } = props;
  const width = 460; // rendered about this wide in a third of the page, so text keeps its size
  const pad = { l: 44, r: 8, t: 10, b: 22 };
  const max = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.v)));
  const niceMax = niceCeil(max);
  const x = (t: number) => pad.l + ((t - from) / Math.max(1, to - from)) * (width - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / niceMax) * (height - pad.t - pad.b);
  const ticks = [0, niceMax / 2, niceMax];
  const xTicks = [from, from + (to - from) / 2, to];
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={series.map((s) => s.name).join(', ')}>
      {ticks.map((v) => (
        <g key={v}>
          <line x1={pad.l} x2={width - pad.r} y1={y(v)} y2={y(v)} class="grid" />
          <text x={pad.l - 6} y={y(v) + 4} class="tick" text-anchor="end">
            {format(v)}
          </text>
        </g>
      ))}
      {xTicks.map((t, i) => (
        <text key={t} x={x(t)} y={height - 6} class="tick" text-anchor={i === 0 ? 'start' : i === xTicks.length - 1 ? 'end' : 'middle'}>
          {new Date(t).toLocaleTimeString('en-GB', {
            hour: '2-digit',
            minute: '2-digit',
            ...(to - from < 600_000 ? { second: '2-digit' } : {}),
          })}
        </text>
      ))}
      {series.map((s) => {
        if (!s.points.length) return null;
        const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
        const area = `${d} L${x(s.points.at(-1)!.t).toFixed(1)},${y(0)} L${x(s.points[0].t).toFixed(1)},${y(0)} Z`;
        return (
          <g key={s.name} data-series={s.name} data-points={s.points.length}>
            <path d={area} fill={s.color} opacity="0.12" />
            <path d={d} fill="none" stroke={s.color} stroke-width="2" stroke-linejoin="round" />
            {s.points.length === 1 && <circle cx={x(s.points[0].t)} cy={y(s.points[0].v)} r="3" fill={s.color} />}
          </g>
        );
      })}
    </svg>
  );
}

/** Minute buckets over a window, missing minutes as zero (so quiet minutes show as a dip). */
export function fillMinutes(points: { t: number; v: number }[], from: number, to: number): { t: number; v: number }[] {
  const byMinute = new Map(points.map((p) => [Math.floor(p.t / 60_000), p.v]));
  const out: { t: number; v: number }[] = [];
  for (let m = Math.floor(from / 60_000); m <= Math.floor(to / 60_000); m++) out.push({ t: m * 60_000, v: byMinute.get(m) ?? 0 });
  return out;
}

export function Legend({ series }: { series: { name: string; color: string }[] }) {
  return (
    <div class="legend">
      {series.map((s) => (
        <span key={s.name}>
          <i style={{ background: s.color }} />
          {s.name}
        </span>
      ))}
    </div>
  );
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
