import type { Command } from '../context.js';
import { UsageError } from '../errors.js';

// Wired to the core's tailEvents once it lands.
export const events: Command = {
  name: 'events',
  summary: 'tail job and DAG events from the outbox',
  usage: 'events tail [--json]',
  help: 'Not available in this build yet.',
  async run({ positionals }) {
    if (positionals[0] !== 'tail') throw new UsageError('use: jobline events tail');
    process.stderr.write('jobline: events tail is not in this build of @jobline/core yet\n');
    return 1;
  },
};
