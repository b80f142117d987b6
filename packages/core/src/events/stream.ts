import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ResolvedEventsOptions } from './options.js';

/**
 * Creates the events stream, or updates the settings this process owns (subjects, duplicate
 * window, retention, replicas) when they differ. File storage always: events must survive a NATS
 * restart. Production settings (replicas, sync_interval) are in events/README.md.
 */
export async function ensureStream(jsm: JetStreamManager, o: ResolvedEventsOptions, log: Logger): Promise<StreamInfo> {
  const wanted = {
    subjects: [`${o.subjectPrefix}.>`],
    duplicate_window: nanos(o.duplicateWindowMs),
    max_age: nanos(o.maxAgeMs),
    num_replicas: o.replicas,
  };
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(o.stream);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
  }
  if (!info) {
    log.info({ stream: o.stream, subjects: wanted.subjects }, 'creating the events stream');
    return jsm.streams.add({
      name: o.stream,
      ...wanted,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      description: 'Jobline job and DAG status events (CloudEvents 1.0 JSON)',
    });
  }
  const c = info.config;
  if (c.storage !== StorageType.File) {
    log.warn(
      { stream: o.stream, storage: c.storage },
      'the events stream does not use file storage: events are lost when NATS restarts; recreate it',
    );
  }
  const same =
    c.subjects?.length === 1 &&
    c.subjects[0] === wanted.subjects[0] &&
    c.duplicate_window === wanted.duplicate_window &&
    c.max_age === wanted.max_age &&
    c.num_replicas === wanted.num_replicas;
  if (same) return info;
  log.info(
    {
      stream: o.stream,
      from: { subjects: c.subjects, duplicateWindow: c.duplicate_window, maxAge: c.max_age, replicas: c.num_replicas },
      to: wanted,
    },
    'updating the events stream',
  );
  return jsm.streams.update(o.stream, wanted);
}
