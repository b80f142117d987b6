/**
 * Compile-time half of test/public-api.test.ts (run by `npm run typecheck`): what Jobline keeps
 * private does not compile from outside, on a plain or a typed instance.
 */
import type { Jobline, HealthChecks, QueueInfo } from '@jobline/core';

type Jobs = { ping: { input: { n: number }; output: { n: number } } };

export async function privateParts(jl: Jobline): Promise<void> {
  // @ts-expect-error the pool is private
  void jl.pool;
  // @ts-expect-error the connection string holds the password
  void jl.connectionString;
  // @ts-expect-error resolved options are private
  void jl.options;
  // @ts-expect-error internal flags
  void jl.topology;
  // @ts-expect-error internal flags
  void jl.natsUrl;
  // @ts-expect-error internal flags
  void jl.afterTransitions;
  // @ts-expect-error the quoted schema is for core's SQL
  void jl.s;
  const typed = jl.typed<Jobs>();
  // @ts-expect-error private on the typed view too
  void typed.pool;
  // What stays public.
  const schema: string = jl.schema;
  const health: HealthChecks = await typed.health();
  const queues: QueueInfo[] = await jl.listQueues();
  void [schema, health, queues];
}
