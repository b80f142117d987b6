import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import pino, { type Logger } from 'pino';
import { connect } from '@nats-io/transport-node';
import {
  DEFAULT_SUBJECT_PREFIX,
  FilterError,
  JoblineEventSchema,
  filterSubject,
  type EventFilter,
  type JoblineEvent,
} from '@jobline/contracts';
import { ValidationError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { toEnvelope } from './envelope.js';
import type { ResolvedEventsOptions } from './options.js';
import { maxOutboxId, readOutboxAfter } from './outbox-read.js';
import { ensureStream } from './stream.js';

/** What tailEvents reads from; a `Jobline` instance is one. */
export interface TailSource {
  pool: Queryable;
  /** Quoted schema for SQL. */
  s: string;
  /** When set, events come live from the stream; otherwise from the outbox table. */
  natsUrl?: string;
  events: ResolvedEventsOptions;
  logger?: Logger;
}

/** Where a tail reads: JetStream when NATS is configured, else the outbox table. */
export type TailFrom = 'nats' | 'outbox';

export interface TailOptions extends EventFilter {
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** `new`: only events from now on; `all`: also those still in the stream (or outbox). @default 'new' */
  from?: 'new' | 'all';
  /** Outbox poll interval when NATS is not configured. @default 250 */
  pollIntervalMs?: number;
  /**
   * Called once the tail is in place (the stream consumer exists, or the outbox cursor is read):
   * with `from: 'new'`, every event after this moment is yielded. For callers that must not miss
   * the first events — a test, or a script that starts work only once it is listening.
   * `source` says where events come from: the stream (`natsUrl` set) or the outbox table.
   */
  onReady?: (source: TailFrom) => void;
}

/**
 * Yields Jobline events as they happen (`jobline events tail`). With NATS: an ephemeral ordered
 * consumer on the events stream, filtered by subject, so only matching events cross the wire.
 * Without NATS: polls the outbox table, where events stay when no relay publishes them. (If a
 * relay does run elsewhere it deletes rows after publishing, so the outbox view may miss events
 * it published between polls: tail from NATS when there is one.) Events that fail validation are
 * skipped.
 */
export async function* tailEvents(src: TailSource, opts: TailOptions = {}): AsyncGenerator<JoblineEvent> {
  const { signal, from = 'new', pollIntervalMs = 250, onReady = () => {}, ...filter } = opts;
  let subject: string;
  try {
    subject = filterSubject(filter, src.natsUrl ? src.events.subjectPrefix : DEFAULT_SUBJECT_PREFIX);
  } catch (err) {
    if (err instanceof FilterError) throw ValidationError.field(err.field, err.message);
    throw err;
  }
  if (src.natsUrl) yield* tailNats(src.natsUrl, src.events, src.logger ?? pino({ level: 'silent' }), subject, from, onReady, signal);
  else yield* tailOutbox(src, subjectRegex(subject), from, pollIntervalMs, onReady, signal);
}

async function* tailNats(
  url: string,
  events: ResolvedEventsOptions,
  log: Logger,
  subject: string,
  from: 'new' | 'all',
  onReady: (source: TailFrom) => void,
  signal?: AbortSignal,
): AsyncGenerator<JoblineEvent> {
  if (signal?.aborted) return;
  const nc = await connect({ servers: url, name: 'jobline-tail', noAsyncTraces: true });
  const stop = () => void nc.close();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    // Creating the stream here (idempotent) lets a tail started before any worker see the first events.
    await ensureStream(await jetstreamManager(nc), events, log);
    const consumer = await jetstream(nc).consumers.get(events.stream, {
      filter_subjects: subject,
      deliver_policy: from === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
    });
    const messages = await consumer.consume();
    signal?.addEventListener('abort', () => messages.stop(), { once: true });
    // consumers.get() created the server-side consumer, so "new" is fixed from here on.
    onReady('nats');
    for await (const m of messages) {
      const r = JoblineEventSchema.safeParse(safeJson(m.data));
      if (r.success) yield r.data;
    }
  } catch (err) {
    if (!signal?.aborted) throw err;
  } finally {
    signal?.removeEventListener('abort', stop);
    await nc.close().catch(() => {});
  }
}

async function* tailOutbox(
  src: TailSource,
  pattern: string,
  from: 'new' | 'all',
  pollMs: number,
  onReady: (source: TailFrom) => void,
  signal?: AbortSignal,
): AsyncGenerator<JoblineEvent> {
  let cursor = from === 'all' ? 0 : await maxOutboxId(src.pool, src.s);
  onReady('outbox');
  while (!signal?.aborted) {
    const rows = await readOutboxAfter(src.pool, src.s, cursor, pattern, 500);
    for (const row of rows) {
      cursor = row.id;
      const r = JoblineEventSchema.safeParse(toEnvelope(row, src.events.source));
      if (r.success) yield r.data;
      if (signal?.aborted) return;
    }
    if (rows.length < 500) await sleep(pollMs, signal);
  }
}

/** A NATS subject pattern as an anchored regular expression (tokens are [A-Za-z0-9_-] only). */
export function subjectRegex(subject: string): string {
  const tokens = subject.split('.').map((t) => (t === '*' ? '[^.]+' : t === '>' ? '.+' : t));
  return `^${tokens.join('\\.')}$`;
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
