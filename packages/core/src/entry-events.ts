/**
 * `@jobline/core/events`: the outbox and its relay for processes that run no worker, tails,
 * CloudEvents envelopes and wake-up subjects (events/README.md). Subscribers want
 * `@jobline/contracts` instead.
 */
export { JobEvent } from './events/outbox.js';
export { Relay, type RelayStats } from './events/relay.js';
export { tailEvents, type TailOptions, type TailSource, type TailFrom } from './events/tail.js';
export { outboxBacklog, type OutboxBacklog } from './events/outbox-read.js';
export { toEnvelope } from './events/envelope.js';
export { wakeSubject } from './events/wakeups.js';
export type { EventsOptions, ResolvedEventsOptions } from './events/options.js';
export type { JoblineEvent, EventFilter } from '@jobline/contracts';
