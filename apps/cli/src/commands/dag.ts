import { readFile } from 'node:fs/promises';
import type { DagRunDetail, Jobline } from '@jobline/core';
import { backoffDelayMs } from '@jobline/core/inspect';
import { connect, parseId, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { ago, duration, table, writeJson } from '../output.js';

const RUN_FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export function renderDag(run: DagRunDetail): string {
  let out = `dag:${run.id}  ${run.name}  ${run.state}  (${run.failurePolicy}, ${run.nodesDone}/${run.nodeCount} nodes done)\n`;
  out += `  created      ${ago(run.createdAt)}\n`;
  if (run.finishedAt)
    out += `  finished     ${ago(run.finishedAt)}  (took ${duration(run.finishedAt.getTime() - run.createdAt.getTime())})\n`;
  if (run.idempotencyKey) out += `  idempotency  ${run.idempotencyKey}\n`;
  out += '\n';
  out += table(run.nodes, [
    { header: 'NODE', get: (n) => n.key },
    { header: 'STATE', get: (n) => n.state },
    { header: 'JOB', get: (n) => n.jobId, right: true },
    { header: 'QUEUE/NAME', get: (n) => `${n.queue}/${n.name}`, max: 32 },
    { header: 'ATTEMPT', get: (n) => `${n.attempt}/${n.maxAttempts}`, right: true },
    { header: 'DEPENDS ON', get: (n) => n.dependsOn.join(',') || undefined, max: 30 },
    {
      header: 'RAN FOR',
      get: (n) => (n.startedAt && n.finishedAt ? duration(n.finishedAt.getTime() - n.startedAt.getTime()) : undefined),
      right: true,
    },
    { header: 'ERROR', get: (n) => n.error?.message, max: 50 },
  ])
    .trimEnd()
    .replace(/^(?=.)/gm, '  ');
  return out + '\n';
}

export async function showDag(jl: Jobline, id: number, json: boolean): Promise<number> {
  const run = await jl.getDag(id);
  if (json) writeJson(run);
  else process.stdout.write(renderDag(run));
  return 0;
}

async function waitForRun(jl: Jobline, id: number): Promise<DagRunDetail> {
  const tty = process.stderr.isTTY;
  for (let i = 0; ; i++) {
    const run = await jl.getDag(id);
    if (RUN_FINISHED.has(run.state)) {
      if (tty && i) process.stderr.write('\n');
      return run;
    }
    if (tty) process.stderr.write(`\rdag:${id} ${run.state}: ${run.nodesDone}/${run.nodeCount} nodes done   `);
    // Polls at 50 ms doubling to 1 s: the library's backoff (step i = attempt i + 1), no jitter.
    await new Promise((r) => setTimeout(r, backoffDelayMs(i + 1, { baseMs: 50, maxMs: 1000, jitter: 0 })));
  }
}

export const dag: Command = {
  name: 'dag',
  summary: 'submit, inspect or cancel a DAG run',
  usage: 'dag submit <file.json> [--wait] | dag status <id> | dag cancel <id>   [--json]',
  help: `DAG runs: nodes that start when their parents succeed, submitted atomically.

  jobline dag submit etl.json --wait    # exit 1 unless the run succeeds
  jobline dag status 12                 # same as: jobline status dag:12
  jobline dag cancel 12

The file holds { "name", "failurePolicy"?: "fail_fast"|"continue", "idempotencyKey"?,
"nodes": [{ "key", "name" | "definition", "queue"?, "input"?, "dependsOn"?: [keys], … }] };
a node's input may use {"$ref": "<parentKey>.output.<path>"} to take a parent's output.`,
  options: { wait: { type: 'boolean' } },
  async run({ positionals, values, json }) {
    const [sub, arg, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    if (!['submit', 'status', 'cancel'].includes(sub ?? '')) {
      throw new UsageError(
        sub ? `unknown dag subcommand ${JSON.stringify(sub)}` : 'use: dag submit <file> | dag status <id> | dag cancel <id>',
      );
    }
    if (!arg) throw new UsageError(sub === 'submit' ? 'give the DAG file' : 'give the DAG run id');
    let spec: unknown;
    if (sub === 'submit') {
      try {
        spec = JSON.parse(await readFile(arg, 'utf8'));
      } catch (err) {
        throw new UsageError(`cannot read ${arg} as JSON: ${(err as Error).message}`);
      }
    }
    const id = sub === 'submit' ? 0 : parseId(arg.replace(/^dag:/, ''), 'DAG run id');
    const jl = await connect();
    try {
      if (sub === 'status') return await showDag(jl, id, json);
      if (sub === 'cancel') {
        const run = await jl.cancelDag(id);
        if (json) writeJson(run);
        else process.stdout.write(`cancelled dag:${run.id} (${run.name})\n`);
        return 0;
      }
      let run: DagRunDetail & { created?: boolean } = await jl.submitDag(spec as never, { callerTraceparent: process.env.TRACEPARENT });
      const created = run.created;
      if (values.wait) run = await waitForRun(jl, run.id);
      if (json) writeJson({ ...run, created });
      else {
        if (!values.wait) process.stdout.write(`${created ? 'submitted' : 'already existed:'} dag:${run.id}\n`);
        process.stdout.write(renderDag(run));
      }
      return values.wait && run.state !== 'succeeded' ? 1 : 0;
    } finally {
      await jl.close();
    }
  },
};
