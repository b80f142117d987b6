import { DAG_TYPE_PREFIX, DEFAULT_SUBJECT_PREFIX, GROUP_TYPE_PREFIX, type JoblineEvent } from '@jobline/contracts';

/** An outbox row as the relay and `tailEvents` read it. */
export interface OutboxRow {
  id: number;
  type: string;
  /** Stored with the default prefix `jobline.`; the relay swaps in the configured one. */
  subject: string;
  jobId: number | null;
  dagRunId: number | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

/**
 * The CloudEvents 1.0 envelope of an outbox row as an object (`jobline events tail` without NATS),
 * validated by `@jobline/contracts`. It is `envelopeJson` parsed back — one builder, so the relay's
 * messages and the tail's objects cannot differ (they once did: this side fell back to ids in
 * `data` when a row's column was null; the outbox SQL always sets `job_id` for job events and
 * `dag_run_id` for DAG events, which test/events-vocabulary.test.ts checks for every event kind).
 */
export function toEnvelope(row: OutboxRow, source: string): JoblineEvent {
  const { traceparent, ...data } = row.data;
  const relayRow: RelayRow = {
    id: row.id,
    type: row.type,
    subject: row.subject,
    jobId: row.jobId,
    dagRunId: row.dagRunId,
    dataJson: JSON.stringify(data),
    traceparent: typeof traceparent === 'string' ? traceparent : null,
    time: row.createdAt.toISOString(),
  };
  return JSON.parse(envelopeJson(relayRow, JSON.stringify(source))) as JoblineEvent;
}

/** The NATS subject of a row under `prefix` (rows are stored under the default prefix). */
export function natsSubject(row: { subject: string }, prefix: string): string {
  return prefix === DEFAULT_SUBJECT_PREFIX ? row.subject : prefix + row.subject.slice(DEFAULT_SUBJECT_PREFIX.length);
}

/** An outbox row as the relay reads it: `data` already JSON text (without traceparent), time as ISO text. */
export interface RelayRow {
  id: number;
  type: string;
  subject: string;
  jobId: number | null;
  dagRunId: number | null;
  /** `data - 'traceparent'`, as JSON text straight from PostgreSQL. */
  dataJson: string;
  traceparent: string | null;
  /** created_at, ISO 8601 UTC with milliseconds. */
  time: string;
}

/**
 * The one envelope builder: CloudEvents 1.0 JSON text around the data PostgreSQL already
 * serialised (parsing jsonb into objects only to stringify them again was a third of the relay's
 * CPU). The `subject` attribute is the job id for job events and the DAG run id for DAG events
 * (types from `@jobline/contracts`' prefixes). `sourceJson` is the JSON-quoted source.
 */
export function envelopeJson(row: RelayRow, sourceJson: string): string {
  const dag = row.type.startsWith(DAG_TYPE_PREFIX);
  const subject = dag ? row.dagRunId : row.jobId;
  // Group events (rare: a quota hold or release) carry their group key as the subject.
  const subjectJson = row.type.startsWith(GROUP_TYPE_PREFIX) ? JSON.stringify(String(JSON.parse(row.dataJson).group)) : `"${subject}"`;
  const trace = row.traceparent === null ? '' : `,"traceparent":${JSON.stringify(row.traceparent)}`;
  return `{"specversion":"1.0","id":"${row.id}","source":${sourceJson},"type":${JSON.stringify(row.type)},"subject":${subjectJson},"time":"${row.time}","datacontenttype":"application/json"${trace},"data":${row.dataJson}}`;
}
