import { useState } from 'preact/hooks';
import { get, post, qs, type Job, type Overview } from '../api';
import { ActionButton, Card, ErrorNote, Estimated, Loading, STATE_COLORS, Stat } from '../components/ui';
import { count, duration, percent } from '../format';
import { usePoll } from '../hooks';
import { useCan } from '../session';
import { JobTable } from './jobs';
import { QueueGroupsCard } from './queue-groups';

/** One queue: depth, the hour's numbers, settings (pause/resume, concurrency limit) and its newest jobs. */
export function QueuePage({ name }: { name: string }) {
  const canWrite = useCan('write');
  // The overview endpoint with a page of one: the queue whose name sorts first from `name`.
  const o = usePoll(() => get<Overview>(`/v1/dashboard/overview${qs({ prefix: name, limit: 200 })}`), 2000, [name]);
  const jobs = usePoll(() => get<{ jobs: Job[] }>(`/v1/dashboard/jobs${qs({ queue: name, limit: 20 })}`), 3000, [name]);
  const [limit, setLimit] = useState('');
  if (!o.data) return o.error ? <ErrorNote error={o.error} /> : <Loading />;
  const q = o.data.queues.find((x) => x.name === name) ?? { name, paused: false, depth: {} };
  const st = o.data.throughput.queues.find((x) => x.queue === name);
  return (
    <div class="page">
      <Card
        title={
          <>
            Queue {name} {q.paused && <span class="pill warn">paused</span>}
          </>
        }
        extra={
          canWrite && (
            <div class="actions" data-testid="queue-actions">
              {q.paused ? (
                <ActionButton
                  label="Resume"
                  kind="primary"
                  testId="resume"
                  run={() => post(`/v1/queues/${encodeURIComponent(name)}/resume`)}
                  done={o.reload}
                />
              ) : (
                <ActionButton
                  label="Pause"
                  kind="danger"
                  testId="pause"
                  confirm={`Pause ${name}? Workers stop claiming from it.`}
                  run={() => post(`/v1/queues/${encodeURIComponent(name)}/pause`)}
                  done={o.reload}
                />
              )}
            </div>
          )
        }
      >
        <div class="stats">
          {['available', 'running', 'scheduled', 'retryable', 'failed', 'completed'].map((s) => (
            <Stat
              key={s}
              label={s}
              value={
                <span style={{ color: STATE_COLORS[s] }}>
                  <Estimated on={!!q.depth[s]?.estimated} why="past the exact-count cap: PostgreSQL's estimate" />
                  {count(q.depth[s]?.n ?? 0)}
                </span>
              }
            />
          ))}
          <Stat label="failure rate, 1 h" value={percent(st?.failureRate)} />
          <Stat
            label="pickup p50 / p99"
            value={st?.pickupP50Ms === undefined ? '–' : `${duration(st.pickupP50Ms)} / ${duration(st.pickupP99Ms)}`}
          />
          <Stat label="oldest waiting" value={q.oldestAvailable ? duration(q.oldestAvailable.ageMs) : '–'} />
        </div>
        <div class="settings">
          <span>
            Concurrency limit (running jobs across all workers): <strong>{q.concurrencyLimit ?? 'none'}</strong>
          </span>
          {canWrite && (
            <form
              class="inline"
              onSubmit={(e) => {
                e.preventDefault();
              }}
            >
              <input
                type="number"
                min="1"
                placeholder="limit"
                value={limit}
                onInput={(e) => setLimit((e.target as HTMLInputElement).value)}
                data-testid="limit-input"
              />
              <ActionButton
                label="Set"
                testId="set-limit"
                run={() =>
                  post(`/v1/queues/${encodeURIComponent(name)}/settings`, { concurrencyLimit: limit === '' ? null : Number(limit) })
                }
                done={() => {
                  setLimit('');
                  o.reload();
                }}
              />
              {q.concurrencyLimit !== undefined && (
                <ActionButton
                  label="Remove limit"
                  run={() => post(`/v1/queues/${encodeURIComponent(name)}/settings`, { concurrencyLimit: null })}
                  done={o.reload}
                />
              )}
            </form>
          )}
        </div>
      </Card>
      <QueueGroupsCard name={name} />
      <Card title="Newest jobs" extra={<a href={`/ui/jobs?queue=${encodeURIComponent(name)}`}>all jobs →</a>}>
        <ErrorNote error={jobs.error} />
        {jobs.data ? <JobTable jobs={jobs.data.jobs} /> : <Loading />}
      </Card>
    </div>
  );
}
