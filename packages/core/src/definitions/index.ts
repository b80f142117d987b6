export {
  DefinitionExecutor,
  DefinitionName,
  DefinitionSpecSchema,
  DefinitionDefaultsSchema,
  ContainerSettingsSchema,
  type ContainerSettings,
  parseDefinitionRef,
  formatDefinitionRef,
  type Definition,
  type DefinitionRef,
  type DefinitionSpec,
} from './schema.js';
export {
  createDefinition,
  getDefinition,
  findDefinition,
  listDefinitions,
  type CreatedDefinition,
  type DefinitionFilter,
} from './registry.js';
export { applyDefinitions, validateDefinitionInput, inputValidator } from './apply.js';
export { compileInputSchema } from './compile.js';
