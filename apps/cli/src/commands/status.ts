import type { Job, JobExecution, Jobline } from '@jobline/core';
import { connect, parseId, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { ago, brief, duration, table, writeJson } from '../output.js';
import { showDag } from './dag.js';

export const status: Command = {
  name: 'status',
  summary: 'show a job with its attempts, or a DAG run (dag:<id> or --dag)',
  usage: 'status <jobId> | status dag:<dagRunId> | status --dag <dagRunId>  [--json]',
  help: `Shows a job — its state, timing, input, output and error — and every attempt from the
execution history. Jobs and DAG runs have separate id sequences, so DAG runs are named with a
"dag:" prefix (or --dag).

Exit code 1 when the id does not exist.`,
  options: { dag: { type: 'boolean' } },
  async run({ values, positionals, json }) {
    if (positionals.length !== 1) throw new UsageError('give one job id, or dag:<id>');
    const arg = positionals[0];
    const isDag = values.dag === true || arg.startsWith('dag:');
    const id = parseId(arg.replace(/^dag:/, ''), isDag ? 'DAG run id' : 'job id');
    const jl = await connect();
    try {
      if (isDag) return await showDag(jl, id, json);
      return await showJob(jl, id, json);
    } finally {
      await jl.close();
    }
  },
};

async function showJob(jl: Jobline, id: number, json: boolean): Promise<number> {
  const [job, attempts] = await Promise.all([jl.getJob(id), jl.executions(id)]);
  if (json) {
    writeJson({ job, attempts });
    return 0;
  }
  process.stdout.write(renderJob(job, attempts));
  return 0;
}

export function renderJob(job: Job, attempts: JobExecution[]): string {
  const rows: [string, string][] = [
    ['state', job.state + (job.state === 'retryable' || job.state === 'scheduled' ? ` (runs at ${job.runAt.toISOString()})` : '')],
    ['attempt', `${job.attempt} of ${job.maxAttempts}`],
    ['priority', String(job.priority)],
    ['timeout', duration(job.timeoutMs)],
    ['created', ago(job.createdAt)],
    ['started', ago(job.startedAt)],
    ['finished', ago(job.completedAt)],
  ];
  if (job.startedAt && job.completedAt) rows.push(['ran for', duration(job.completedAt.getTime() - job.startedAt.getTime())]);
  if (job.progress !== undefined) rows.push(['progress', String(job.progress)]);
  if (job.definition) rows.push(['definition', job.definition]);
  if (job.idempotencyKey) rows.push(['idempotency', job.idempotencyKey]);
  if (job.group) rows.push(['group', job.group]);
  if (job.waitingReason) rows.push(['waiting', job.waitingReason]);
  if (job.dagRunId !== undefined) rows.push(['dag', `dag:${job.dagRunId} node ${job.dagNodeKey}`]);
  if (job.workerId) rows.push(['worker', job.workerId]);
  rows.push(['input', brief(job.input, 500)]);
  if (job.output !== undefined) rows.push(['output', brief(job.output, 500)]);
  if (job.error) rows.push(['error', `${job.error.name ? `${job.error.name}: ` : ''}${job.error.message}`]);
  let out = `job ${job.id}  ${job.name}  (queue ${job.queue})\n`;
  out += rows.map(([k, v]) => `  ${k.padEnd(12)} ${v.replace(/\n/g, '\n' + ' '.repeat(15))}`).join('\n') + '\n';
  out += `\nattempts (${attempts.length})\n`;
  if (attempts.length) {
    out += table(attempts, [
      { header: '#', get: (e) => e.attempt, right: true },
      { header: 'STATE', get: (e) => e.state },
      { header: 'WORKER', get: (e) => e.workerId, max: 32 },
      { header: 'STARTED', get: (e) => e.startedAt?.toISOString() },
      { header: 'DURATION', get: (e) => duration(e.durationMs), right: true },
      { header: 'RESULT', get: (e) => (e.error ? e.error.message : brief(e.output, 60)), max: 60 },
    ])
      .trimEnd()
      .replace(/^(?=.)/gm, '  ');
    out += '\n';
  }
  return out;
}
