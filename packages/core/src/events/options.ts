import { z } from 'zod';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from '@jobline/contracts';
import { parseOrThrow } from '../schemas.js';

/** Where events go and how the relay publishes them (DESIGN §5). */
export interface EventsOptions {
  /** JetStream stream name. @default 'JOBLINE' */
  stream?: string;
  /**
   * First subject token(s): events go to `<prefix>.job.…` and `<prefix>.dag.…`, the stream binds
   * `<prefix>.>`. Give each schema sharing one NATS its own prefix and stream (event ids are per schema).
   * @default 'jobline'
   */
  subjectPrefix?: string;
  /** CloudEvents `source`. @default `/jobline/<schema>` */
  source?: string;
  /**
   * JetStream duplicate window: a publish retried within it (same `Nats-Msg-Id`) is dropped. It
   * must cover a relay restart plus takeover (lease TTL + reconnect). @default 120000 (2 min)
   */
  duplicateWindowMs?: number;
  /** Stream replicas (3 in a production cluster, see events/README.md). @default 1 */
  replicas?: number;
  /** Stream retention: events older than this are discarded by JetStream. @default 7 days */
  maxAgeMs?: number;
  /** Outbox rows per relay batch; all of a batch's publishes are in flight at once. @default 500 */
  batchSize?: number;
  /** Relay poll interval while the outbox is empty. @default 100 */
  pollIntervalMs?: number;
  /** How long the relay waits for a publish ack. @default 5000 */
  publishTimeoutMs?: number;
  /** Outbox size (rows) above which the relay logs a warning. Events are never dropped. @default 100000 */
  backlogAlertThreshold?: number;
  /** How often the relay measures (and, when behind, logs) the backlog. @default 5000 */
  backlogIntervalMs?: number;
  /** Relay leader lease TTL: a dead relay is replaced within about this long. @default 3000 */
  leaseTtlMs?: number;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const Schema = z.strictObject({
  stream: z.string().regex(NAME, 'stream names use 1-64 letters, digits, "_" or "-"').default(DEFAULT_STREAM),
  subjectPrefix: z.string().regex(PREFIX, 'dot-separated tokens of letters, digits, "_" or "-"').default(DEFAULT_SUBJECT_PREFIX),
  source: z.string().min(1).optional(),
  duplicateWindowMs: z.number().int().min(1000).default(120_000),
  replicas: z.number().int().min(1).max(5).default(1),
  maxAgeMs: z
    .number()
    .int()
    .min(0)
    .default(7 * 24 * 3600_000),
  batchSize: z.number().int().min(1).max(5000).default(500),
  pollIntervalMs: z.number().int().min(5).default(100),
  publishTimeoutMs: z.number().int().min(100).default(5000),
  backlogAlertThreshold: z.number().int().min(1).default(100_000),
  backlogIntervalMs: z.number().int().min(50).default(5000),
  leaseTtlMs: z.number().int().min(100).default(3000),
});

export type ResolvedEventsOptions = Omit<z.output<typeof Schema>, 'source'> & { source: string };

export const EventsOptionsSchema = Schema;

export function resolveEventsOptions(o: EventsOptions | undefined, schema: string): ResolvedEventsOptions {
  const r = parseOrThrow(Schema, o ?? {}, 'events');
  return { ...r, source: r.source ?? `/jobline/${schema}` };
}
