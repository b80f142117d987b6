import type { Definition, Handler, Handlers, Job, Jobline } from '@jobline/core';
import { runProcessJob, type ProcessExecutorOptions } from './process-executor.js';

/**
 * Definitions by ref, as the worker sees them. Pinned refs (`name@version`, what enqueue by
 * definition stores) are immutable and cached for the life of the process; a bare name (a job
 * inserted some other way) is looked up each time so it follows the latest version.
 */
export class DefinitionCache {
  private readonly pinned = new Map<string, Promise<Definition>>();
  constructor(private readonly jl: Jobline) {}

  get(ref: string): Promise<Definition> {
    if (!ref.includes('@')) return this.jl.getDefinition(ref);
    let d = this.pinned.get(ref);
    if (!d) {
      d = this.jl.getDefinition(ref);
      this.pinned.set(ref, d);
      d.catch(() => this.pinned.delete(ref)); // a failed lookup is retried next time
    }
    return d;
  }
}

/**
 * The worker's `resolveHandler`: jobs that name a definition run its process (executor
 * "process") or the handler named after the definition (executor "handler"). A handler named
 * like the job itself takes precedence — the core looks there first.
 */
export function definitionResolver(cache: DefinitionCache, handlers: Handlers, o: ProcessExecutorOptions) {
  return (job: Job): Handler | undefined => {
    if (job.definition === undefined) return undefined;
    return async (input, ctx) => {
      const d = await cache.get(job.definition!);
      if (d.executor === 'process') return runProcessJob(d, input, ctx, o);
      const h = handlers[d.name];
      if (!h) {
        const known = Object.keys(handlers).join(', ') || '(none)';
        throw Object.assign(new Error(`definition ${d.name}@${d.version} runs handler "${d.name}", which this worker's module does not export (it has: ${known})`), {
          code: 'NO_HANDLER',
        });
      }
      return h(input, ctx);
    };
  };
}
