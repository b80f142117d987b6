import { DAG_TYPE_PREFIX, DEFAULT_SUBJECT_PREFIX, type JoblineEvent } from '@jobline/contracts';

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
  const subject = dag ? (row.dagRunId ?? data.dagRunId) : (row.jobId ?? data.jobId);
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
export function natsSubject(row: OutboxRow, prefix: string): string {
  return prefix === DEFAULT_SUBJECT_PREFIX ? row.subject : prefix + row.subject.slice(DEFAULT_SUBJECT_PREFIX.length);
}
