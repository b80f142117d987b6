import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { get, post, qs, type Schedule, type ScheduleRun, type Violation } from '../api';
import { ActionButton, Card, ErrorNote, Loading, StateBadge } from '../components/ui';
import { ago, time } from '../format';
import { usePoll } from '../hooks';
import { useCan } from '../session';

export function SchedulesPage() {
  const canWrite = useCan('write');
  const canAdmin = useCan('admin');
  const [open, setOpen] = useState<number>();
  const list = usePoll(() => get<{ schedules: Schedule[] }>('/v1/schedules'), 5000, []);
  const violations = usePoll(() => get<{ violations: Violation[] }>(`/v1/violations${qs({ limit: 20 })}`), 5000, []);
  return (
    <div class="page">
      <Card title="Schedules">
        <ErrorNote error={list.error} />
        {!list.data ? (
          <Loading />
        ) : !list.data.schedules.length ? (
          <div class="muted pad">No schedules. Create them with `jl.schedules.add` or POST /v1/schedules.</div>
        ) : (
          <table class="table" data-testid="schedules">
            <thead>
              <tr>
                <th>name</th>
                <th>cron</th>
                <th>runs</th>
                <th>next run</th>
                <th>state</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.schedules.map((s) => (
                <Fragment key={s.id}>
                  <tr data-schedule={s.name}>
                    <td>
                      <button class="link" onClick={() => setOpen(open === s.id ? undefined : s.id)}>
                        {open === s.id ? '▾' : '▸'} {s.name}
                      </button>
                      {s.description && <div class="muted small">{s.description}</div>}
                    </td>
                    <td class="mono">
                      {s.cron} <span class="muted">{s.timezone}</span>
                    </td>
                    <td>
                      {s.job
                        ? `job ${String(s.job.queue ?? 'default')}/${String(s.job.name ?? s.job.definition ?? '')}`
                        : `DAG ${String(s.dag?.name ?? '')}`}
                    </td>
                    <td title={s.nextRunAt}>{s.paused ? '–' : s.nextRunAt ? `${time(s.nextRunAt)} (${ago(s.nextRunAt)})` : '–'}</td>
                    <td>{s.paused ? <span class="pill warn">paused</span> : <span class="pill ok">active</span>}</td>
                    <td class="actions">
                      {canWrite && <ActionButton label="Trigger" run={() => post(`/v1/schedules/${s.id}/trigger`)} done={list.reload} />}
                      {canAdmin &&
                        (s.paused ? (
                          <ActionButton label="Resume" run={() => post(`/v1/schedules/${s.id}/resume`)} done={list.reload} />
                        ) : (
                          <ActionButton
                            label="Pause"
                            confirm={`Pause ${s.name}? Runs not started yet are removed.`}
                            run={() => post(`/v1/schedules/${s.id}/pause`)}
                            done={list.reload}
                          />
                        ))}
                    </td>
                  </tr>
                  {open === s.id && (
                    <tr>
                      <td colSpan={6}>
                        <ScheduleDetail s={s} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
        {canWrite && !canAdmin && (
          <p class="note">Pausing and resuming schedules is configuration: it needs a token with the admin scope.</p>
        )}
      </Card>
      <Card title="Recent violations">
        <ErrorNote error={violations.error} />
        {!violations.data ? (
          <Loading />
        ) : !violations.data.violations.length ? (
          <div class="muted pad">No constraint violations.</div>
        ) : (
          <table class="table" data-testid="violations">
            <thead>
              <tr>
                <th>when</th>
                <th>schedule</th>
                <th>type</th>
                <th>action taken</th>
                <th>run</th>
              </tr>
            </thead>
            <tbody>
              {violations.data.violations.map((v) => (
                <tr key={v.id}>
                  <td title={v.occurredAt}>{ago(v.occurredAt)}</td>
                  <td>{v.schedule ?? v.scheduleId}</td>
                  <td>
                    <span class="pill bad">{v.type.replace(/_/g, ' ')}</span>
                  </td>
                  <td>{v.actionTaken}</td>
                  <td class="num">{v.runId ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

function ScheduleDetail({ s }: { s: Schedule }) {
  const next = usePoll(() => get<{ times: string[] }>(`/v1/dashboard/schedules/${s.id}/next`), undefined, [s.id]);
  const runs = usePoll(() => get<{ runs: ScheduleRun[] }>(`/v1/schedules/${s.id}/runs${qs({ limit: 15 })}`), 3000, [s.id]);
  return (
    <div class="grid2 inner">
      <div>
        <h3>Next runs</h3>
        {next.data ? (
          next.data.times.length ? (
            <ol class="times">
              {next.data.times.map((t) => (
                <li key={t}>
                  {time(t)} <span class="muted">({ago(t)})</span>
                </li>
              ))}
            </ol>
          ) : (
            <div class="muted">none while paused</div>
          )
        ) : (
          <Loading />
        )}
        {s.constraint && (
          <>
            <h3>Constraint</h3>
            <pre class="json small">{JSON.stringify(s.constraint, null, 2)}</pre>
          </>
        )}
      </div>
      <div>
        <h3>Recent runs</h3>
        {!runs.data ? (
          <Loading />
        ) : !runs.data.runs.length ? (
          <div class="muted">No runs yet.</div>
        ) : (
          <table class="table compact">
            <tbody>
              {runs.data.runs.map((r) => (
                <tr key={r.id}>
                  <td title={r.scheduledAt}>{time(r.scheduledAt)}</td>
                  <td>
                    <StateBadge state={r.status} />
                  </td>
                  <td class="muted">{r.trigger}</td>
                  <td>
                    {r.jobId ? (
                      <a href={`/ui/jobs/${r.jobId}`}>job {r.jobId}</a>
                    ) : r.dagRunId ? (
                      <a href={`/ui/dags/${r.dagRunId}`}>DAG {r.dagRunId}</a>
                    ) : (
                      '–'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
