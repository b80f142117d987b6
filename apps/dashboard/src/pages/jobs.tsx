import { useState } from 'preact/hooks';
import { get, post, qs, type Job } from '../api';
import { ActionButton, Card, ErrorNote, Loading, StateBadge } from '../components/ui';
import { ago, duration } from '../format';
import { usePoll } from '../hooks';
import { navigate } from '../router';
import { useCan, useSession } from '../session';

const STATES = ['', 'available', 'running', 'scheduled', 'retryable', 'waiting', 'completed', 'failed', 'cancelled'];
const SINCE: Record<string, number | undefined> = {
  any: undefined,
  '15m': 15 * 60_000,
  '1h': 3600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};

/** Filters live in the URL, so a filtered list can be shared and survives a reload. */
export function JobsPage({ search }: { search: URLSearchParams }) {
  const session = useSession();
  const canWrite = useCan('write');
  const f = {
    queue: search.get('queue') ?? (session.allQueues ? '' : (session.queues?.[0] ?? '')),
    state: search.get('state') ?? '',
    name: search.get('name') ?? '',
    since: search.get('since') ?? 'any',
  };
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const key = JSON.stringify(f);
  const createdAfter = SINCE[f.since] ? new Date(Date.now() - SINCE[f.since]!).toISOString() : undefined;
  const page = usePoll(
    () =>
      get<{ jobs: Job[]; nextCursor?: string }>(
        `/v1/dashboard/jobs${qs({ queue: f.queue, state: f.state, name: f.name, createdAfter, cursor, limit: 50 })}`,
      ),
    cursor ? undefined : 3000,
    [key, cursor],
  );
  const set = (k: string, v: string) => {
    const u = new URLSearchParams(search);
    if (v) u.set(k, v);
    else u.delete(k);
    setCursors([]);
    navigate(`/ui/jobs${u.size ? `?${u}` : ''}`);
  };
  const bulkable = canWrite && (f.state === 'failed' || f.state === 'cancelled');
  return (
    <div class="page">
      <Card title="Jobs">
        <form class="filters" onSubmit={(e) => e.preventDefault()}>
          <label>
            queue
            {session.allQueues ? (
              <input
                name="queue"
                value={f.queue}
                placeholder="any"
                onChange={(e) => set('queue', (e.target as HTMLInputElement).value.trim())}
              />
            ) : (
              <select name="queue" value={f.queue} onChange={(e) => set('queue', (e.target as HTMLSelectElement).value)}>
                {session.queues?.map((q) => (
                  <option key={q}>{q}</option>
                ))}
              </select>
            )}
          </label>
          <label>
            state
            <select name="state" value={f.state} onChange={(e) => set('state', (e.target as HTMLSelectElement).value)}>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {s || 'any'}
                </option>
              ))}
            </select>
          </label>
          <label>
            name
            <input
              name="name"
              value={f.name}
              placeholder="any"
              onChange={(e) => set('name', (e.target as HTMLInputElement).value.trim())}
            />
          </label>
          <label>
            created
            <select name="since" value={f.since} onChange={(e) => set('since', (e.target as HTMLSelectElement).value)}>
              {Object.keys(SINCE).map((s) => (
                <option key={s} value={s}>
                  {s === 'any' ? 'any time' : `last ${s}`}
                </option>
              ))}
            </select>
          </label>
          {bulkable && (
            <ActionButton
              label={`Retry all ${f.state} matching`}
              kind="primary"
              testId="bulk-retry"
              confirm={`Retry every ${f.state} job matching these filters (up to 1,000 per click)?`}
              run={() =>
                post('/v1/jobs/retry', {
                  state: f.state,
                  queue: f.queue || undefined,
                  name: f.name || undefined,
                  createdAfter,
                  limit: 1000,
                })
              }
              done={(r) => {
                const res = r as { retried: number; more: boolean };
                alert(`${res.retried} job(s) retried${res.more ? '; more match — click again' : ''}.`);
                page.reload();
              }}
            />
          )}
        </form>
        <ErrorNote error={page.error} />
        {!page.data ? <Loading /> : <JobTable jobs={page.data.jobs} />}
        <div class="pager">
          <button class="btn plain" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
            ← Newer
          </button>
          <button class="btn plain" disabled={!page.data?.nextCursor} onClick={() => setCursors([...cursors, page.data!.nextCursor!])}>
            Older →
          </button>
        </div>
      </Card>
    </div>
  );
}

export function JobTable({ jobs }: { jobs: Job[] }) {
  if (!jobs.length) return <div class="muted pad">No jobs match.</div>;
  return (
    <table class="table" data-testid="jobs">
      <thead>
        <tr>
          <th class="num">id</th>
          <th>queue</th>
          <th>name</th>
          <th>state</th>
          <th class="num">attempt</th>
          <th>created</th>
          <th class="num">ran for</th>
          <th>error</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id} data-job={j.id}>
            <td class="num">
              <a href={`/ui/jobs/${j.id}`}>{j.id}</a>
            </td>
            <td>{j.queue}</td>
            <td>
              {j.name}
              {j.dagRunId !== undefined && (
                <a class="pill" href={`/ui/dags/${j.dagRunId}`}>
                  DAG {j.dagRunId}
                </a>
              )}
            </td>
            <td>
              <StateBadge state={j.state} />
            </td>
            <td class="num">
              {j.attempt} / {j.maxAttempts}
            </td>
            <td title={j.createdAt}>{ago(j.createdAt)}</td>
            <td class="num">{j.startedAt && j.completedAt ? duration(Date.parse(j.completedAt) - Date.parse(j.startedAt)) : '–'}</td>
            <td class="clip">{j.error?.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
