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
 * The CloudEvents 1.0 envelope of an outbox row (validated by `@jobline/contracts`). The job's
 * `traceparent` moves from `data` to the envelope, where the distributed-tracing extension puts it.
 */
export function toEnvelope(row: OutboxRow, source: string): JoblineEvent {
  const { traceparent, ...data } = row.data;
  const dag = row.type.startsWith(DAG_TYPE_PREFIX);
  // Group events (quota holds) are about a group: their subject is its key.
  const subject = row.type.startsWith(GROUP_TYPE_PREFIX) ? data.group : dag ? (row.dagRunId ?? data.dagRunId) : (row.jobId ?? data.jobId);
  return {
    specversion: '1.0',
    id: String(row.id),
    source,
    type: row.type,
    subject: String(subject),
    time: row.createdAt.toISOString(),
    datacontenttype: 'application/json',
    ...(typeof traceparent === 'string' ? { traceparent } : {}),
    data,
  } as JoblineEvent;
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
 * The same envelope as `toEnvelope`, written as JSON text around the data PostgreSQL already
 * serialised: parsing jsonb into objects only to stringify them again was a third of the relay's
 * CPU. `sourceJson` is the JSON-quoted source.
 */
export function envelopeJson(row: RelayRow, sourceJson: string): string {
  const dag = row.type.startsWith(DAG_TYPE_PREFIX);
  const subject = dag ? row.dagRunId : row.jobId;
  // Group events (rare: a quota hold or release) carry their group key as the subject.
  const subjectJson = row.type.startsWith(GROUP_TYPE_PREFIX) ? JSON.stringify(String(JSON.parse(row.dataJson).group)) : `"${subject}"`;
  const trace = row.traceparent === null ? '' : `,"traceparent":${JSON.stringify(row.traceparent)}`;
  return `{"specversion":"1.0","id":"${row.id}","source":${sourceJson},"type":${JSON.stringify(row.type)},"subject":${subjectJson},"time":"${row.time}","datacontenttype":"application/json"${trace},"data":${row.dataJson}}`;
}
