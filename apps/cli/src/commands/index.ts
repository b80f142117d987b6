import type { Command } from '../context.js';
import { bench, producer, worker } from './apps.js';
import { cancel } from './cancel.js';
import { dag } from './dag.js';
import { dashboard } from './dashboard.js';
import { definitions } from './definitions.js';
import { enqueue } from './enqueue.js';
import { events } from './events.js';
import { migrate } from './migrate.js';
import { quota } from './quota.js';
import { status } from './status.js';
import { schedule } from './schedule.js';
import { schema } from './schema.js';
import { scheduler } from './scheduler.js';

/** Every command but the demo (cli.ts puts it first: demo/ imports commands/), in `jobline --help` order. */
export const apps: Command[] = [
  migrate,
  producer,
  worker,
  enqueue,
  status,
  cancel,
  dag,
  schedule,
  scheduler,
  definitions,
  quota,
  events,
  dashboard,
  schema,
  bench,
];
