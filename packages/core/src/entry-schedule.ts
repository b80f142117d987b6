/** `@jobline/core/schedule`: cron schedules, constraints and actions — schemas, cron helpers, webhooks, the scheduler (schedule/README.md). */
export * from './schedule/index.js';
