import type pg from 'pg';
import type { Logger } from 'pino';
import type { DagEngine } from './dag/index.js';
import type { WakeupPublisher } from './events/wakeups.js';
import type { EnqueueResult } from './queue/enqueue.js';
import { Debounced, cancelChannel, jobsChannel } from './queue/notify.js';
import type { TransitionHook } from './queue/transitions.js';
import type { ResolvedEventsOptions } from './events/options.js';
import type { NodeDeps } from './node/node.js';
import type { Topology } from './topology.js';
import { VERSION } from './version.js';
import type { ScheduleHost } from './schedule/index.js';
import { quoteSchema } from './db/identifiers.js';
import type { EnqueueSpec, TxOption } from './connect-options.js';

/** The parts of a Jobline instance the schedule module reads. */
interface ScheduleHostSource {
  pool: pg.Pool;
  schema: string;
  connectionString: string;
  applicationName: string;
  logger: Logger;
  maxInputBytes: number;
  insertJobs(jobs: EnqueueSpec[], opts?: TxOption): Promise<EnqueueResult[]>;
}

/** What the schedule module (its APIs and the scheduler) needs, built once per Jobline. */
export function scheduleHost(jl: ScheduleHostSource, dags: DagEngine): ScheduleHost {
  return {
    pool: jl.pool,
    schema: jl.schema,
    s: quoteSchema(jl.schema),
    connectionString: jl.connectionString,
    // Read when a scheduler starts: connect() sets the name after construction.
    get applicationName() {
      return jl.applicationName;
    },
    logger: jl.logger,
    maxInputBytes: jl.maxInputBytes,
    cancelChannel: cancelChannel(jl.schema),
    insertJobs: (jobs, tx) => jl.insertJobs(jobs, { tx }),
    submitDag: (spec, tx) => dags.submit(spec, tx),
    cancelDag: (id) => dags.cancel(id),
  };
}

/** With NATS wake-ups, producers publish to NATS and fall back to NOTIFY when it is down (topology.ts). */
export function viaPublisher(notifier: Debounced, publisher: WakeupPublisher | undefined, debounceMs: number): Debounced {
  if (!publisher) return notifier;
  return new Debounced(debounceMs, (q) => publisher.publish(q) || notifier.notify([q]));
}

/** The parts of a Jobline instance a worker node reads. */
interface NodeDepsSource extends ScheduleHostSource {
  natsUrl: string | undefined;
  events: ResolvedEventsOptions;
  topology: Topology | undefined;
}

/** What `jl.worker()` hands the node: the worker's deps, DAG advancement as the transition hook, and what its leader services need. */
export function nodeDeps(jl: NodeDepsSource, onTransitions: TransitionHook, schedules: ScheduleHost): NodeDeps {
  return {
    pool: jl.pool,
    connectionString: jl.connectionString,
    applicationName: jl.applicationName,
    schema: jl.schema,
    s: quoteSchema(jl.schema),
    jobsChannel: jobsChannel(jl.schema),
    cancelChannel: cancelChannel(jl.schema),
    logger: jl.logger,
    maxOutputBytes: jl.maxInputBytes,
    version: VERSION,
    onTransitions,
    schedules,
    natsUrl: jl.natsUrl,
    events: jl.events,
    listenUrl: jl.topology?.listenUrl,
    listenConfig: jl.topology?.listenConfig,
    natsWakeups: jl.topology?.wakeups === 'nats',
    statements: jl.topology?.statements,
  };
}
