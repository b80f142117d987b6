import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, type JobError } from '../api';

/** One colour per state, shared by badges, the queue depth bars and the DAG graph. */
export const STATE_COLORS: Record<string, string> = {
  scheduled: '#94a3b8',
  waiting: '#cbd5e1',
  available: '#3b82f6',
  running: '#f59e0b',
  retryable: '#f97316',
  completed: '#22c55e',
  succeeded: '#22c55e',
  failed: '#ef4444',
  cancelled: '#6b7280',
  skipped: '#a8a29e',
  timed_out: '#b91c1c',
  lost: '#a855f7',
  released: '#06b6d4',
  delayed: '#eab308',
  missed: '#78716c',
};

export function StateBadge({ state }: { state: string }) {
  return (
    <span class="badge" data-state={state} style={{ '--c': STATE_COLORS[state] ?? '#64748b' }}>
      {state.replace('_', ' ')}
    </span>
  );
}

export function Card({
  title,
  extra,
  children,
  class: cls,
}: {
  title?: ComponentChildren;
  extra?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
}) {
  return (
    <section class={`card ${cls ?? ''}`}>
      {title !== undefined && (
        <header class="card-head">
          <h2>{title}</h2>
          {extra}
        </header>
      )}
      {children}
    </section>
  );
}

export function Stat({ label, value, hint }: { label: string; value: ComponentChildren; hint?: string }) {
  return (
    <div class="stat" title={hint}>
      <div class="stat-value">{value}</div>
      <div class="stat-label">{label}</div>
    </div>
  );
}

export function ErrorNote({ error }: { error?: Error }) {
  if (!error) return null;
  return (
    <div class="error-note" role="alert">
      {error.message}
    </div>
  );
}

export function Loading() {
  return <div class="muted pad">Loading…</div>;
}

/** A button that runs an action, shows it is busy, and shows the API's error message if it fails. */
export function ActionButton(props: {
  label: string;
  run: () => Promise<unknown>;
  confirm?: string;
  kind?: 'primary' | 'danger' | 'plain';
  done?: (r: unknown) => void;
  testId?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string>();
  return (
    <span class="action">
      <button
        class={`btn ${props.kind ?? 'plain'}`}
        data-testid={props.testId}
        disabled={busy}
        onClick={async () => {
          if (props.confirm && !window.confirm(props.confirm)) return;
          setBusy(true);
          setErr(undefined);
          try {
            props.done?.(await props.run());
          } catch (e) {
            setErr(e instanceof ApiError ? e.message : String(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? '…' : props.label}
      </button>
      {err && (
        <span class="action-error" role="alert">
          {err}
        </span>
      )}
    </span>
  );
}

export function Json({ value, empty = 'none' }: { value: unknown; empty?: string }) {
  if (value === undefined || value === null) return <div class="muted">{empty}</div>;
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** "~" marks an estimate, with the reason on hover. */
export function Estimated({ on, why }: { on: boolean; why: string }) {
  return on ? (
    <abbr class="est" title={why}>
      ~
    </abbr>
  ) : null;
}

/** A job error: name, code and message, the stack as written, and any other fields as JSON. */
export function ErrorBlock({ error }: { error: JobError }) {
  const { message, name, code, stack, ...rest } = error;
  return (
    <div class="err">
      <div class="err-head">
        {name && <strong>{name}</strong>} {code && <span class="pill">{code}</span>} {message}
      </div>
      {stack && <pre class="stack">{stack}</pre>}
      {Object.keys(rest).length > 0 && <Json value={rest} />}
    </div>
  );
}
