import { ValidationError } from './errors.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The schema name is the one identifier interpolated into SQL (values are always bound). It is
 * validated once here, so every query built from it is safe.
 */
export function quoteSchema(name: string): string {
  if (!SCHEMA_NAME.test(name)) {
    throw ValidationError.field(
      'schema',
      `"${name}" is not a valid schema name: use lowercase letters, digits and _ (max 63), starting with a letter`,
    );
  }
  return `"${name}"`;
}
