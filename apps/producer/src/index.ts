/** The producer app's surface for tests and embedding (other apps spawn dist/main.js instead). */
export { createProducer, type Producer, type ProducerOptions } from './server.js';
export { loadConfig, ConfigError, type ProducerConfig } from './config.js';
export { ApiTokensSchema, authenticate, type ApiToken, type Principal, type Scope } from './auth.js';
export { buildOpenApi } from './openapi.js';
export * as apiSchemas from './api-schemas.js';
