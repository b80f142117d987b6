/** `@jobline/core/definitions`: the job-definition registry's schemas and functions (`jl.createDefinition` etc. are on Jobline). */
export * from './definitions/index.js';
export { DefinitionCache } from './definitions/cache.js';
export type { DefinitionJobSpec } from './jobline.js';
