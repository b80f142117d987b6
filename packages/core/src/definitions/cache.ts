import type { Queryable } from '../db/pool.js';
import { ValidationError } from '../db/errors.js';
import { getDefinition } from './registry.js';
import { parseDefinitionRef, type Definition } from './schema.js';

/**
 * Definitions by ref, as a worker sees them. Pinned refs (`name@version`, what enqueue by
 * definition stores) are immutable and cached for the life of the process; a bare name (a job
 * inserted some other way) is looked up each time so it follows the latest version.
 */
export class DefinitionCache {
  private readonly pinned = new Map<string, Promise<Definition>>();
  constructor(
    private readonly db: Queryable,
    private readonly s: string,
  ) {}

  get(ref: string): Promise<Definition> {
    const parsed = parseDefinitionRef(ref);
    if (!parsed) return Promise.reject(ValidationError.field('definition', `"${ref}" is not a definition name or name@version`));
    if (parsed.version === undefined) return getDefinition(this.db, this.s, parsed);
    let d = this.pinned.get(ref);
    if (!d) {
      d = getDefinition(this.db, this.s, parsed);
      this.pinned.set(ref, d);
      d.catch(() => this.pinned.delete(ref)); // a failed lookup is retried next time
    }
    return d;
  }
}
