import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { RecentIds } from './dedupe.js';
import { parseEvent, type JoblineEvent } from './envelope.js';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from './names.js';
import { filterSubject, type EventFilter } from './subjects.js';

export interface SubscribeOptions {
  /** A connection from `connect()` of `@nats-io/transport-node`; the caller owns and closes it. */
  nc: NatsConnection;
  /** Durable consumer name: a restarted subscriber with the same name resumes where it acked. */
  durable: string;
  /** Which events; see `filterSubject`. @default every event */
  filter?: EventFilter;
  /** Called once per event; the message is acked only after it resolves. */
  handler: (event: JoblineEvent, msg: JsMsg) => unknown;
  /** @default 'JOBLINE' */
  stream?: string;
  /** @default 'jobline' */
  subjectPrefix?: string;
  /** Where a new consumer starts: every stored event, or only those published from now. @default 'all' */
  deliver?: 'all' | 'new';
  /** Unacked time before JetStream redelivers; keep it above the slowest handler. @default 30000 */
  ackWaitMs?: number;
  /** Messages the server lets this consumer hold unacked. @default 1000 */
  maxAckPending?: number;
  /** Redelivery delay after the handler throws (the message is nak'ed). @default 1000 */
  retryDelayMs?: number;
  /** Event ids remembered for dedup. @default 10000 */
  dedupeCapacity?: number;
  /** A payload that is not a valid Jobline event: it is terminated (never redelivered) and reported here. */
  onInvalid?: (err: unknown, msg: JsMsg) => void;
  /** The handler threw; the message will be redelivered after `retryDelayMs`. */
  onError?: (err: unknown, event: JoblineEvent) => void;
}

export interface SubscriptionStats {
  handled: number;
  /** Redeliveries of events already handled: acked without calling the handler again. */
  duplicates: number;
  failed: number;
  invalid: number;
}

export interface Subscription {
  readonly stats: SubscriptionStats;
  /** Stops fetching; the event being handled finishes (and is acked) first. */
  stop(): Promise<void>;
  /** Resolves when the subscription ends (after stop() or when the connection closes). */
  readonly done: Promise<void>;
}

/**
 * Subscribes to Jobline events through a durable pull consumer (created if missing). Delivery is
 * at least once; the helper turns it into "the handler succeeds once per event":
 * - the message is acked only after the handler resolves; if it throws, the message is nak'ed
 *   and comes back after `retryDelayMs`; if the process dies, JetStream redelivers after `ackWaitMs`;
 * - ids of handled events are remembered (bounded), so a redelivery of a handled event (its ack
 *   was lost, or came after ack_wait) is acked without calling the handler again.
 * Events are handled one at a time in stream order, which keeps each job's events in order
 * except for a message that is nak'ed, which comes back after later ones.
 * What this cannot cover is a crash after the handler's side effect but before the ack reached
 * the server: make side effects idempotent by `event.id` if that matters (the id is stable).
 */
export async function subscribe(o: SubscribeOptions): Promise<Subscription> {
  const stream = o.stream ?? DEFAULT_STREAM;
  const subject = filterSubject(o.filter, o.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const jsm = await jetstreamManager(o.nc);
  await ensureConsumer(jsm, stream, o.durable, subject, o);
  const consumer = await jetstream(o.nc).consumers.get(stream, o.durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.min(o.maxAckPending ?? 1000, 256) });
  const seen = new RecentIds(o.dedupeCapacity ?? 10_000);
  const stats: SubscriptionStats = { handled: 0, duplicates: 0, failed: 0, invalid: 0 };
  const retryDelayMs = o.retryDelayMs ?? 1000;

  const done = (async () => {
    for await (const msg of messages) {
      let event: JoblineEvent;
      try {
        event = parseEvent(msg.data);
      } catch (err) {
        stats.invalid++;
        msg.term();
        o.onInvalid?.(err, msg);
        continue;
      }
      if (seen.has(event.id)) {
        stats.duplicates++;
        msg.ack();
        continue;
      }
      try {
        await o.handler(event, msg);
      } catch (err) {
        stats.failed++;
        msg.nak(retryDelayMs);
        o.onError?.(err, event);
        continue;
      }
      seen.add(event.id);
      stats.handled++;
      msg.ack();
    }
  })();

  return {
    stats,
    done,
    async stop() {
      messages.stop();
      await done;
    },
  };
}

type Jsm = Awaited<ReturnType<typeof jetstreamManager>>;

/** Creates the durable consumer, or checks that an existing one selects the same subject. */
async function ensureConsumer(jsm: Jsm, stream: string, durable: string, subject: string, o: SubscribeOptions): Promise<void> {
  const existing = await jsm.consumers.info(stream, durable).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (existing) {
    const had = existing.config.filter_subject ?? '>';
    const want = subject.endsWith('.>') && subject.split('.').length === 2 ? [subject, '>'] : [subject];
    if (!want.includes(had)) {
      throw new Error(
        `consumer "${durable}" on stream ${stream} filters "${had}", not "${subject}": use another durable name or delete the consumer`,
      );
    }
    return;
  }
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: o.deliver === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    filter_subject: subject,
    ack_wait: nanos(o.ackWaitMs ?? 30_000),
    max_ack_pending: o.maxAckPending ?? 1000,
  });
}

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
}
