import { useRef, useState } from 'preact/hooks';
import { get, qs, type Overview as OverviewT, type QueueRow, type QueueStats } from '../api';
import { LineChart, Legend, fillMinutes, type Series } from '../components/chart';
import { Card, ErrorNote, Estimated, Loading, STATE_COLORS, Stat } from '../components/ui';
import { count, duration, percent } from '../format';
import { usePoll } from '../hooks';

const DEPTH_STATES = ['available', 'running', 'scheduled', 'retryable', 'waiting', 'failed', 'completed', 'cancelled'];
const POLL_MS = 2000;
const LIVE_POINTS = 150; // five minutes of 2 s polls

export function OverviewPage() {
  const [prefix, setPrefix] = useState('');
  const [pages, setPages] = useState<string[]>([]); // `after` of each page shown so far (keyset)
  const after = pages.at(-1);
  const live = useRef<{ t: number; available: number; running: number }[]>([]);
  const o = usePoll(
    async () => {
      const d = await get<OverviewT>(`/v1/dashboard/overview${qs({ after, prefix })}`);
      const t = Date.now();
      const sum = (s: string) => d.queues.reduce((n, q) => n + (q.depth[s]?.n ?? 0), 0);
      live.current = [...live.current, { t, available: sum('available'), running: sum('running') }].slice(-LIVE_POINTS);
      return d;
    },
    POLL_MS,
    [after, prefix],
  );
  if (!o.data) return o.error ? <ErrorNote error={o.error} /> : <Loading />;
  const d = o.data;
  const tp = d.throughput;
  const done = tp.queues.reduce((n, q) => n + q.completed, 0);
  const failed = tp.queues.reduce((n, q) => n + q.failed, 0);
  const now = new Date(d.generatedAt).getTime();
  const from = now - tp.windowMs;
  const series: Series[] = [
    {
      name: 'completed / min',
      color: STATE_COLORS.completed,
      points: fillMinutes(
        tp.series.map((b) => ({ t: Date.parse(b.t), v: b.completed })),
        from,
        now,
      ),
    },
    {
      name: 'failed / min',
      color: STATE_COLORS.failed,
      points: fillMinutes(
        tp.series.map((b) => ({ t: Date.parse(b.t), v: b.failed })),
        from,
        now,
      ),
    },
  ];
  const minutes = (pick: (b: OverviewT['throughput']['series'][number]) => number | undefined) =>
    tp.series.flatMap((b) => (pick(b) === undefined ? [] : [{ t: Date.parse(b.t), v: pick(b)! }]));
  const latency: Series[] = [
    { name: 'p50', color: '#6366f1', points: minutes((b) => b.pickupP50Ms) },
    { name: 'p99', color: '#f97316', points: minutes((b) => b.pickupP99Ms) },
  ];
  const liveSeries: Series[] = [
    { name: 'available', color: STATE_COLORS.available, points: live.current.map((p) => ({ t: p.t, v: p.available })) },
    { name: 'running', color: STATE_COLORS.running, points: live.current.map((p) => ({ t: p.t, v: p.running })) },
  ];
  const stats = new Map(tp.queues.map((q) => [q.queue, q]));
  const sampledNote = tp.sampled ? `only the newest ${count(tp.sampleCap)} finished jobs of the hour are counted` : undefined;
  return (
    <div class="page">
      <ErrorNote error={o.error} />
      <div class="stats">
        {d.tables && (
          <Stat
            label="jobs in table (estimate)"
            value={d.tables.jobs < 0 ? '–' : <>~{count(d.tables.jobs)}</>}
            hint={
              d.tables.jobs < 0
                ? 'not analysed yet: PostgreSQL has no estimate'
                : "pg_class.reltuples: PostgreSQL's own estimate, updated by autovacuum"
            }
          />
        )}
        <Stat
          label="finished, last hour"
          value={
            <>
              {tp.sampled ? '≥' : ''}
              {count(done + failed)}
            </>
          }
          hint={sampledNote}
        />
        <Stat label="failure rate, last hour" value={percent(done + failed ? failed / (done + failed) : undefined)} />
        <Stat label="workers" value={String(d.workers.length)} />
        <Stat label="running now" value={count(d.workers.reduce((n, w) => n + w.inFlight, 0))} />
        {d.outbox && (
          <Stat
            label={`outbox backlog${d.outbox.rows ? `, oldest ${duration(d.outbox.oldestAgeMs)}` : ''}`}
            value={
              <>
                {d.outbox.rows ? '≤' : ''}
                {count(d.outbox.rows)}
              </>
            }
            hint="events waiting for the relay; the id range, an upper bound"
          />
        )}
      </div>
      <div class="grid2">
        <Card title="Throughput, last hour" extra={<Legend series={series} />}>
          <LineChart series={series} from={from} to={now} />
          <p class="note">{sampledNote ? `Sampled: ${sampledNote}.` : 'Jobs finished per minute, every queue.'}</p>
        </Card>
        <Card title="Pickup latency" extra={<Legend series={latency} />}>
          <LineChart series={latency} from={from} to={now} format={(v) => (v ? duration(v) : '0')} />
          <p class="note">p50 and p99 per minute, due time → start; minutes without finished jobs have no point.</p>
        </Card>
        <Card title="Depth, live" extra={<Legend series={liveSeries} />}>
          <LineChart series={liveSeries} from={live.current[0]?.t ?? now - 60_000} to={now} />
          <p class="note">Queues on this page, sampled every {POLL_MS / 1000} s while it is open.</p>
        </Card>
      </div>
      <Card
        title="Queues"
        extra={
          <input
            class="filter"
            placeholder="filter by name prefix"
            value={prefix}
            onInput={(e) => {
              setPages([]);
              setPrefix((e.target as HTMLInputElement).value.replace(/[^A-Za-z0-9_-]/g, ''));
            }}
          />
        }
      >
        <QueueTable queues={d.queues} stats={stats} cap={d.depthCap} />
        <div class="pager">
          <button class="btn plain" disabled={!pages.length} onClick={() => setPages(pages.slice(0, -1))}>
            ← Previous
          </button>
          <button class="btn plain" disabled={!d.nextAfter} onClick={() => setPages([...pages, d.nextAfter!])}>
            Next →
          </button>
        </div>
        <p class="note">
          Depth counts are exact up to {count(d.depthCap)} per queue and state; <abbr class="est">~</abbr> marks an estimate beyond that.
          Rates and pickup latency (due time → start) cover jobs finished in the last hour.
        </p>
      </Card>
      <Card title="Workers">
        <WorkerTable workers={d.workers} />
      </Card>
    </div>
  );
}

function DepthBar({ q }: { q: QueueRow }) {
  const total = DEPTH_STATES.reduce((n, s) => n + (q.depth[s]?.n ?? 0), 0);
  if (!total) return <div class="bar empty" />;
  return (
    <div
      class="bar"
      title={DEPTH_STATES.filter((s) => q.depth[s])
        .map((s) => `${s}: ${q.depth[s]!.n}`)
        .join(', ')}
    >
      {DEPTH_STATES.map((s) => {
        const n = q.depth[s]?.n ?? 0;
        return n ? <i key={s} style={{ width: `${Math.max(2, (n / total) * 100)}%`, background: STATE_COLORS[s] }} /> : null;
      })}
    </div>
  );
}

function QueueTable({ queues, stats, cap }: { queues: QueueRow[]; stats: Map<string, QueueStats>; cap: number }) {
  if (!queues.length) return <div class="muted pad">No queues yet: enqueue a job, or create a queue's settings.</div>;
  const cell = (q: QueueRow, s: string) => {
    const d = q.depth[s];
    if (!d) return <td class="num muted">0</td>;
    return (
      <td class="num">
        <Estimated on={d.estimated} why={`more than ${cap}: extrapolated from the ids of the first ${cap}`} />
        {count(d.n)}
      </td>
    );
  };
  return (
    <table class="table" data-testid="queues">
      <thead>
        <tr>
          <th>queue</th>
          <th class="wide">by state</th>
          <th class="num">available</th>
          <th class="num">running</th>
          <th class="num">scheduled</th>
          <th class="num">retryable</th>
          <th class="num">failed</th>
          <th class="num">completed</th>
          <th class="num">done / h</th>
          <th class="num">fail rate</th>
          <th class="num">pickup p50 / p99</th>
          <th class="num">oldest waiting</th>
        </tr>
      </thead>
      <tbody>
        {queues.map((q) => {
          const st = stats.get(q.name);
          return (
            <tr key={q.name} data-queue={q.name}>
              <td>
                <a href={`/ui/queues/${encodeURIComponent(q.name)}`}>{q.name}</a>
                {q.paused && <span class="pill warn">paused</span>}
                {q.concurrencyLimit !== undefined && <span class="pill">≤ {q.concurrencyLimit}</span>}
              </td>
              <td>
                <DepthBar q={q} />
              </td>
              {cell(q, 'available')}
              {cell(q, 'running')}
              {cell(q, 'scheduled')}
              {cell(q, 'retryable')}
              {cell(q, 'failed')}
              {cell(q, 'completed')}
              <td class="num">{st ? count(st.completed + st.failed) : '–'}</td>
              <td class={`num ${st?.failureRate ? 'bad' : ''}`}>{percent(st?.failureRate)}</td>
              <td class="num">{st?.pickupP50Ms === undefined ? '–' : `${duration(st.pickupP50Ms)} / ${duration(st.pickupP99Ms)}`}</td>
              <td class={`num ${(q.oldestAvailable?.ageMs ?? 0) > 60_000 ? 'bad' : ''}`}>
                {q.oldestAvailable ? (
                  <a href={`/ui/jobs/${q.oldestAvailable.id}`} title={`job ${q.oldestAvailable.id}`}>
                    {duration(q.oldestAvailable.ageMs)}
                  </a>
                ) : (
                  '–'
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function WorkerTable({ workers }: { workers: OverviewT['workers'] }) {
  if (!workers.length) return <div class="muted pad">No workers running.</div>;
  return (
    <table class="table" data-testid="workers">
      <thead>
        <tr>
          <th>worker</th>
          <th>host / pid</th>
          <th>queues</th>
          <th class="num">in flight / concurrency</th>
          <th class="wide">load</th>
          <th class="num">heartbeat</th>
          <th>version</th>
        </tr>
      </thead>
      <tbody>
        {workers.map((w) => (
          <tr key={w.id}>
            <td class="mono">{w.id}</td>
            <td>
              {w.hostname} / {w.pid}
            </td>
            <td>{w.queues.join(', ')}</td>
            <td class="num">
              {w.inFlight} / {w.concurrency}
            </td>
            <td>
              <div class="bar">
                <i
                  style={{ width: `${Math.min(100, (w.inFlight / Math.max(1, w.concurrency)) * 100)}%`, background: STATE_COLORS.running }}
                />
              </div>
            </td>
            <td class={`num ${w.heartbeatAgeMs > 10_000 ? 'bad' : ''}`}>{duration(w.heartbeatAgeMs)} ago</td>
            <td class="muted">{w.version}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
