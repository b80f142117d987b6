import type { Jobline } from '@jobline/core';
import type { Command } from '../context.js';
import { UsageError } from '../errors.js';

// Wired to jl.submitDag/getDag/cancelDag once the core DAG module lands.
export async function showDag(_jl: Jobline, id: number, _json: boolean): Promise<number> {
  throw new Error(`DAG support is not in this build of @jobline/core yet (dag:${id})`);
}

export const dag: Command = {
  name: 'dag',
  summary: 'submit, inspect or cancel a DAG run',
  usage: 'dag submit <file.json> | dag status <id> | dag cancel <id>  [--json]',
  help: 'DAG runs: not available in this build yet.',
  async run({ positionals }) {
    throw new UsageError(`unknown dag subcommand ${JSON.stringify(positionals[0] ?? '')}`);
  },
};
