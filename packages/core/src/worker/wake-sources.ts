import type { Logger } from 'pino';
import { Listener } from '../db/listener.js';
import { WakeupSubscriber } from '../events/wakeups.js';
import type { WorkerDeps } from './deps.js';

/**
 * What wakes a worker besides its poll: LISTEN on the jobs and cancel channels (unless behind a
 * transaction pooler without a direct URL, `listenUrl: null`), and core NATS wake-ups when
 * configured. `onNotify` gets each notification; `wake` runs whenever LISTEN is (again) in place or
 * a NATS wake-up arrives (a notification may have been missed meanwhile, so the worker claims).
 */
export function wakeSources(
  deps: WorkerDeps,
  queues: string[],
  log: Logger,
  onNotify: (channel: string, payload: string) => void,
  wake: () => void,
): { listener: Listener; wakeups: WakeupSubscriber | undefined } {
  const listener = new Listener(
    deps.listenUrl === null ? undefined : (deps.listenUrl ?? deps.connectionString),
    `${deps.applicationName}-listener`,
    [deps.jobsChannel, deps.cancelChannel],
    onNotify,
    wake,
    deps.listenConfig,
  );
  const wakeups =
    deps.natsWakeups && deps.natsUrl
      ? new WakeupSubscriber(deps.natsUrl, deps.schema, queues, `${deps.applicationName}-wakeups`, wake, log)
      : undefined;
  return { listener, wakeups };
}
