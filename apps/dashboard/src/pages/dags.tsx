import { useState } from 'preact/hooks';
import { get, post, qs, type DagDetail, type DagRun } from '../api';
import { DagGraph } from '../components/dag-graph';
import { ActionButton, Card, ErrorBlock, ErrorNote, Loading, STATE_COLORS, StateBadge } from '../components/ui';
import { ago, duration, time } from '../format';
import { usePoll } from '../hooks';
import { useCan } from '../session';

export function DagsPage() {
  const [state, setState] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const page = usePoll(
    () => get<{ runs: DagRun[]; nextCursor?: string }>(`/v1/dashboard/dags${qs({ state, cursor, limit: 50 })}`),
    cursor ? undefined : 3000,
    [state, cursor],
  );
  return (
    <div class="page">
      <Card
        title="DAG runs"
        extra={
          <select
            value={state}
            onChange={(e) => {
              setCursors([]);
              setState((e.target as HTMLSelectElement).value);
            }}
          >
            {['', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => (
              <option key={s} value={s}>
                {s || 'any state'}
              </option>
            ))}
          </select>
        }
      >
        <ErrorNote error={page.error} />
        {!page.data ? (
          <Loading />
        ) : !page.data.runs.length ? (
          <div class="muted pad">No DAG runs.</div>
        ) : (
          <table class="table" data-testid="dags">
            <thead>
              <tr>
                <th class="num">id</th>
                <th>name</th>
                <th>state</th>
                <th class="wide">progress</th>
                <th>created</th>
                <th class="num">took</th>
              </tr>
            </thead>
            <tbody>
              {page.data.runs.map((r) => (
                <tr key={r.id}>
                  <td class="num">
                    <a href={`/ui/dags/${r.id}`}>{r.id}</a>
                  </td>
                  <td>{r.name}</td>
                  <td>
                    <StateBadge state={r.state} />
                  </td>
                  <td>
                    <div class="bar" title={`${r.nodesDone} of ${r.nodeCount} nodes done`}>
                      <i
                        style={{
                          width: `${(r.nodesDone / Math.max(1, r.nodeCount)) * 100}%`,
                          background: STATE_COLORS[r.state === 'running' ? 'running' : r.state],
                        }}
                      />
                    </div>
                    <span class="muted small">
                      {r.nodesDone} / {r.nodeCount}
                    </span>
                  </td>
                  <td title={r.createdAt}>{ago(r.createdAt)}</td>
                  <td class="num">{r.finishedAt ? duration(Date.parse(r.finishedAt) - Date.parse(r.createdAt)) : '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
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

export function DagPage({ id }: { id: number }) {
  const canWrite = useCan('write');
  const [selected, setSelected] = useState<string>();
  // Live while it runs: poll every second; a finished run does not change.
  const r = usePoll(() => get<DagDetail>(`/v1/dags/${id}`), 1000, [id]);
  if (!r.data) return r.error ? <ErrorNote error={r.error} /> : <Loading />;
  const run = r.data;
  const node = run.nodes.find((n) => n.key === selected);
  const states = [...new Set(run.nodes.map((n) => n.state))];
  return (
    <div class="page">
      <ErrorNote error={r.error} />
      <Card
        title={
          <>
            DAG run {run.id} <span class="muted">·</span> {run.name} <StateBadge state={run.state} />
          </>
        }
        extra={
          canWrite &&
          run.state === 'running' && (
            <div class="actions">
              <ActionButton
                label="Cancel run"
                kind="danger"
                testId="cancel-dag"
                confirm={`Cancel every unfinished node of run ${id}?`}
                run={() => post(`/v1/dags/${id}/cancel`)}
                done={r.reload}
              />
            </div>
          )
        }
      >
        <div class="muted small">
          {run.nodesDone} of {run.nodeCount} nodes done · policy {run.failurePolicy} · created {time(run.createdAt)}
          {run.finishedAt && ` · took ${duration(Date.parse(run.finishedAt) - Date.parse(run.createdAt))}`}
        </div>
        <div class="legend">
          {states.map((s) => (
            <span key={s}>
              <i style={{ background: STATE_COLORS[s] }} />
              {s} ({run.nodes.filter((n) => n.state === s).length})
            </span>
          ))}
        </div>
        <div class="dag-wrap">
          <DagGraph run={run} selected={selected} onSelect={setSelected} />
        </div>
      </Card>
      {node ? (
        <Card
          title={
            <>
              Node {node.key} <StateBadge state={node.state} />
            </>
          }
          class="node-detail"
        >
          <dl class="facts" data-testid="node-detail">
            <dt>job</dt>
            <dd>
              <a href={`/ui/jobs/${node.jobId}`}>
                {node.jobId} · {node.name}
              </a>{' '}
              <span class="muted">({node.jobState})</span>
            </dd>
            <dt>queue</dt>
            <dd>{node.queue}</dd>
            <dt>depends on</dt>
            <dd>{node.dependsOn.join(', ') || 'nothing (a root)'}</dd>
            <dt>children</dt>
            <dd>{node.children.join(', ') || 'none'}</dd>
            <dt>attempt</dt>
            <dd>
              {node.attempt} of {node.maxAttempts}
            </dd>
            <dt>started</dt>
            <dd>{time(node.startedAt)}</dd>
            <dt>finished</dt>
            <dd>{time(node.finishedAt)}</dd>
            {node.workerId && (
              <>
                <dt>worker</dt>
                <dd class="mono">{node.workerId}</dd>
              </>
            )}
          </dl>
          {node.error && <ErrorBlock error={node.error} />}
        </Card>
      ) : (
        <p class="note">Click a node for its details.</p>
      )}
    </div>
  );
}
