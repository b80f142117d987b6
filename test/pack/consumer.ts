/**
 * A new user's program, compiled with strict tsc against the *installed* @jobline/core types
 * (no workspace, no path mapping) and run on a fresh database by run.sh: connect, migrate,
 * enqueue with the typed API, run a worker, read the job and its executions, submit a small
 * DAG, stop cleanly. Exits non-zero on the first thing that is not as expected.
 */
import { Jobline, JoblineError, NonRetryableError, type TypedJob } from '@jobline/core';
// Every documented subpath, from the installed tarball (issue 11): each resolves with its types.
import * as admin from '@jobline/core/admin';
import * as observability from '@jobline/core/observability';
import * as events from '@jobline/core/events';
import * as inspect from '@jobline/core/inspect';
import * as schemas from '@jobline/core/schemas';
import * as definitions from '@jobline/core/definitions';
import * as schedule from '@jobline/core/schedule';
import * as executors from '@jobline/core/executors';
import type { JobNameOf, TypedHandler } from '@jobline/core/typed';
import * as internal from '@jobline/core/internal';

type Jobs = {
  'send-email': { input: { to: string }; output: { messageId: string } };
  resize: { input: { url: string; width: number }; output: { url: string } };
};

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`pack consumer: ${what}`);
}

async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`pack consumer: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const subpaths = { admin, observability, events, inspect, schemas, definitions, schedule, executors, internal };
for (const [name, mod] of Object.entries(subpaths)) check(Object.keys(mod).length > 0, `@jobline/core/${name} exports nothing`);
check(
  typeof admin.migrate === 'function' &&
    typeof observability.MetricsRegistry === 'function' &&
    typeof schemas.JobSpecSchema.parse === 'function',
  'subpath members',
);
check(
  new NonRetryableError('x') instanceof JoblineError && new executors.ProcessExitError('x', 1, null, '') instanceof JoblineError,
  'one error tree',
);
const sendEmail: TypedHandler<Jobs, JobNameOf<Jobs>> | undefined = undefined;
check(sendEmail === undefined, 'typed subpath');

const databaseUrl = process.env.DATABASE_URL;
check(typeof databaseUrl === 'string' && databaseUrl.length > 0, 'DATABASE_URL must be set');

const jl = await Jobline.connect<Jobs>({ databaseUrl, natsUrl: '', migrate: false });
const migrated = await jl.migrate();
check(migrated.applied.length > 0, `migrate applied nothing on a fresh database (${JSON.stringify(migrated)})`);
const health = await jl.health();
check(health.database && health.migrationsCurrent, `health ${JSON.stringify(health)}`);

const job = await jl.enqueue({ queue: 'pack', name: 'send-email', input: { to: 'ada@example.com' } });
const worker = jl.worker({
  queues: ['pack'],
  concurrency: 2,
  handlers: {
    'send-email': async (input, ctx) => ({ messageId: `msg-${input.to}-${ctx.attempt}` }),
    resize: async (input) => ({ url: `${input.url}?w=${input.width}` }),
  },
});
await worker.start();

const done: TypedJob<Jobs, 'send-email'> = await until('the job to complete', async () => {
  const j = await jl.getJob<'send-email'>(job.id);
  return j.state === 'completed' ? j : undefined;
});
check(done.output?.messageId === 'msg-ada@example.com-1', `output ${JSON.stringify(done.output)}`);
const executions = await jl.executions(job.id);
check(executions.length === 1 && executions[0]?.state === 'completed', `executions ${JSON.stringify(executions)}`);

const dag = await jl.submitDag({
  name: 'pack-dag',
  nodes: [
    { key: 'img', queue: 'pack', name: 'resize', input: { url: 'https://example.com/a.png', width: 64 } },
    { key: 'mail', queue: 'pack', name: 'send-email', input: { to: { $ref: 'img.output.url' } }, dependsOn: ['img'] },
  ],
});
const run = await until('the DAG to finish', async () => {
  const d = await jl.getDag(dag.id);
  return d.state === 'running' ? undefined : d;
});
check(run.state === 'succeeded', `DAG state ${run.state}`);
const mailJob = run.nodes.find((n) => n.key === 'mail')?.jobId;
check(mailJob !== undefined, 'the mail node has a job');
const mail = await jl.getJob<'send-email'>(mailJob!);
check(mail.input.to === 'https://example.com/a.png?w=64', `mail input ${JSON.stringify(mail.input)}`);

await worker.stop();
await jl.close();
console.log(
  JSON.stringify({
    node: process.version,
    migrated: migrated.applied,
    joblineVersion: migrated.joblineVersion,
    job: done.id,
    output: done.output,
    executions: executions.length,
    dag: run.state,
    nodes: run.nodes.length,
  }),
);
