/** `@jobline/core/typed`: every helper type of typed jobs (typed-jobs.ts); the common ones are also in the root. */
export type * from './typed-jobs.js';
