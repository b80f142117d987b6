export { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './server.js';
export { freePort } from './free-port.js';
export { EmbeddedPostgresError } from './errors.js';
