/**
 * @jobline/contracts — what an event subscriber needs and nothing else (no pg): the CloudEvents
 * envelope and per-event zod schemas, event names and subjects, and a durable subscriber helper.
 */
export * from './names.js';
export * from './subjects.js';
export * from './envelope.js';
export { subscribe, type SubscribeOptions, type Subscription, type SubscriptionStats } from './subscribe.js';
export { RecentIds } from './dedupe.js';
