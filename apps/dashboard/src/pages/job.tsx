import { get, post, type Execution, type Job } from '../api';
import { ActionButton, Card, ErrorBlock, ErrorNote, Json, Loading, STATE_COLORS, StateBadge } from '../components/ui';
import { ago, duration, time } from '../format';
import { usePoll } from '../hooks';
import { useCan } from '../session';

const UNFINISHED = ['scheduled', 'available', 'running', 'retryable', 'waiting'];
/** Why an available job is not running (getJob's waitingReason). */
const WAITING: Record<string, string> = {
  group_limit: 'its group is at its concurrency limit',
  rate_limit: 'the rate limit is reached for this window',
  quota: 'its group is held (quota exhausted)',
  queue_paused: 'the queue is paused',
};

export function JobPage({ id }: { id: number }) {
  const canWrite = useCan('write');
  const r = usePoll(
    async () => {
      const [job, ex] = await Promise.all([get<Job>(`/v1/jobs/${id}`), get<{ executions: Execution[] }>(`/v1/jobs/${id}/executions`)]);
      return { job, executions: ex.executions };
    },
    2000,
    [id],
  );
  if (!r.data) return r.error ? <ErrorNote error={r.error} /> : <Loading />;
  const { job, executions } = r.data;
  const retryable = ['failed', 'cancelled', 'retryable'].includes(job.state) && !(job.dagRunId !== undefined && job.state !== 'retryable');
  return (
    <div class="page">
      <ErrorNote error={r.error} />
      <Card
        title={
          <>
            Job {job.id} <span class="muted">·</span> {job.name} <StateBadge state={job.state} />
          </>
        }
        extra={
          canWrite && (
            <div class="actions" data-testid="job-actions">
              {retryable && (
                <ActionButton
                  label={job.state === 'retryable' ? 'Run now' : 'Retry now'}
                  kind="primary"
                  testId="retry"
                  run={() => post(`/v1/jobs/${id}/retry`)}
                  done={r.reload}
                />
              )}
              {UNFINISHED.includes(job.state) && (
                <ActionButton
                  label="Cancel"
                  kind="danger"
                  testId="cancel"
                  confirm={`Cancel job ${id}?`}
                  run={() => post(`/v1/jobs/${id}/cancel`)}
                  done={r.reload}
                />
              )}
            </div>
          )
        }
      >
        <dl class="facts">
          <dt>queue</dt>
          <dd>
            <a href={`/ui/queues/${encodeURIComponent(job.queue)}`}>{job.queue}</a>
          </dd>
          {job.group !== undefined && (
            <>
              <dt>group</dt>
              <dd data-testid="job-group">{job.group}</dd>
            </>
          )}
          {job.waitingReason && (
            <>
              <dt>waiting</dt>
              <dd data-testid="job-waiting">{WAITING[job.waitingReason]}</dd>
            </>
          )}
          <dt>attempt</dt>
          <dd>
            {job.attempt} of {job.maxAttempts}
          </dd>
          <dt>priority</dt>
          <dd>{job.priority}</dd>
          <dt>created</dt>
          <dd title={job.createdAt}>{time(job.createdAt)}</dd>
          <dt>run at</dt>
          <dd title={job.runAt}>{ago(job.runAt)}</dd>
          {job.completedAt && (
            <>
              <dt>finished</dt>
              <dd title={job.completedAt}>{time(job.completedAt)}</dd>
            </>
          )}
          {job.workerId && (
            <>
              <dt>worker</dt>
              <dd class="mono">{job.workerId}</dd>
            </>
          )}
          {job.dagRunId !== undefined && (
            <>
              <dt>DAG run</dt>
              <dd>
                <a href={`/ui/dags/${job.dagRunId}`}>
                  {job.dagRunId} · node {job.dagNodeKey}
                </a>
              </dd>
            </>
          )}
          {job.definition && (
            <>
              <dt>definition</dt>
              <dd>{job.definition}</dd>
            </>
          )}
          {job.idempotencyKey && (
            <>
              <dt>idempotency key</dt>
              <dd class="mono">{job.idempotencyKey}</dd>
            </>
          )}
          {job.traceparent && (
            <>
              <dt>traceparent</dt>
              <dd class="mono">{job.traceparent}</dd>
            </>
          )}
        </dl>
        {job.progress !== undefined && (
          <div class="progress" title={`${job.progress}%`}>
            <i style={{ width: `${Math.min(100, Math.max(0, job.progress))}%` }} />
            <span>{Math.round(job.progress)}%</span>
          </div>
        )}
      </Card>
      <Card title={`Attempts (${executions.length})`}>
        <Timeline executions={executions} job={job} />
      </Card>
      <div class="grid2">
        <Card title="Input">
          <Json value={job.input} />
        </Card>
        <Card title="Output">
          <Json value={job.output} empty="no output yet" />
        </Card>
      </div>
      {job.error && (
        <Card title="Error">
          <ErrorBlock error={job.error} />
        </Card>
      )}
    </div>
  );
}

/**
 * Attempts on one time axis: each bar starts at the attempt's start and is as long as it ran,
 * coloured by its outcome; the gaps between bars are the backoff waits.
 */
function Timeline({ executions, job }: { executions: Execution[]; job: Job }) {
  const rows = executions.map((e) => ({ ...e, start: Date.parse(e.startedAt ?? e.finishedAt), end: Date.parse(e.finishedAt) }));
  if (job.state === 'running' && job.startedAt) {
    rows.push({
      jobId: job.id,
      attempt: job.attempt,
      workerId: job.workerId,
      state: 'running',
      startedAt: job.startedAt,
      finishedAt: new Date().toISOString(),
      start: Date.parse(job.startedAt),
      end: Date.now(),
    });
  }
  if (!rows.length) return <div class="muted pad">Not started yet.</div>;
  const from = Math.min(...rows.map((r) => r.start));
  const to = Math.max(...rows.map((r) => r.end), from + 1);
  const pct = (t: number) => ((t - from) / (to - from)) * 100;
  return (
    <div class="timeline" data-testid="attempts">
      {rows.map((r) => (
        <div class="tl-row" key={r.attempt} data-attempt={r.attempt} data-state={r.state}>
          <div class="tl-label">
            <strong>#{r.attempt}</strong> <StateBadge state={r.state} />
          </div>
          <div class="tl-track">
            <i
              style={{
                left: `${pct(r.start)}%`,
                width: `max(3px, ${pct(r.end) - pct(r.start)}%)`,
                background: STATE_COLORS[r.state] ?? '#64748b',
              }}
            />
          </div>
          <div class="tl-meta">
            <span title={r.startedAt}>{time(r.startedAt)}</span> · {duration(r.durationMs ?? r.end - r.start)} ·{' '}
            <span class="mono">{r.workerId ?? '–'}</span>
            {r.error && <div class="tl-error">{r.error.message}</div>}
          </div>
        </div>
      ))}
    </div>
  );
}
