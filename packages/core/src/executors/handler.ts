import type { Definition } from '../definitions/schema.js';
import type { ExecutionContext, Executor, ExecutorCapabilities } from './types.js';

/** A handler as the executor sees it; the worker's `Handler` (input, JobContext) is one. */
export type HandlerFunction = (input: any, ctx: any) => unknown;

/**
 * The `handler` executor: a definition with executor "handler" runs the function of the worker's
 * handler module named after the definition. (A handler named like the job itself is found by
 * the worker before any definition is read.)
 */
export class HandlerExecutor implements Executor {
  readonly kind = 'handler' as const;
  constructor(private readonly handlers: Record<string, HandlerFunction>) {}

  async run(def: Definition, input: unknown, ctx: ExecutionContext): Promise<unknown> {
    const h = this.handlers[def.name];
    if (!h) {
      const known = Object.keys(this.handlers).join(', ') || '(none)';
      throw Object.assign(
        new Error(
          `definition ${def.name}@${def.version} runs handler "${def.name}", which this worker's module does not export (it has: ${known})`,
        ),
        {
          code: 'NO_HANDLER',
        },
      );
    }
    return h(input, ctx);
  }

  capabilities(): ExecutorCapabilities {
    return { kind: this.kind, details: { handlers: Object.keys(this.handlers).length } };
  }
}
