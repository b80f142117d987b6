/** The model layer (rank 0): states, derived sets, SQL rendering of them, row types and mapping. */
export * from './states.js';
export * from './sql.js';
export * from './job.js';
export * from './dag.js';
export * from './events.js';
