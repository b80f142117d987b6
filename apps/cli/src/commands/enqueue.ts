import { readFile } from 'node:fs/promises';
import type { EnqueueSpec, Job } from '@jobline/core';
import { backoffDelayMs } from '@jobline/core/inspect';
import { connect, intOption, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { bar, writeJson } from '../output.js';

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

async function parseInput(v: string | undefined): Promise<unknown> {
  if (v === undefined) return undefined;
  const text = v.startsWith('@')
    ? await readFile(v.slice(1), 'utf8').catch((e: Error) => Promise.reject(new UsageError(`cannot read ${v.slice(1)}: ${e.message}`)))
    : v;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `--input is not valid JSON (${(err as Error).message}); quote it for your shell, e.g. --input '{"to":"a@b.c"}', or pass @file.json`,
    );
  }
}

/** `KEY:MS` (the key may itself contain ':'; the last one separates the period). */
function policyWindow(v: unknown, flag: string): { key: string; periodMs: number } | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  const at = s.lastIndexOf(':');
  if (at <= 0 || !/^-?\d+$/.test(s.slice(at + 1)))
    throw new UsageError(`--${flag} takes KEY:MS, e.g. --${flag} user-7:60000 (got ${JSON.stringify(s)})`);
  return { key: s.slice(0, at), periodMs: Number(s.slice(at + 1)) };
}

export const enqueue: Command = {
  name: 'enqueue',
  summary: 'enqueue a job (or --count copies of it)',
  usage: 'enqueue <queue> <name> [--input JSON|@file] [options]',
  help: `Enqueues a job directly in the database (DATABASE_URL). Prints the job, or its id with --quiet.

Options:
  --input JSON|@file      job input (any JSON value)
  --priority N            lower runs first (default 0)
  --run-at ISO-8601       do not run before this time
  --max-attempts N        attempts including the first
  --timeout-ms N          per-attempt timeout
  --idempotency-key KEY   a second enqueue with the same key returns the first job
  --group KEY             the job's group (e.g. a tenant): group limits, fair claiming, quotas
  --singleton-key KEY     at most one unfinished job with KEY in the queue (returns the existing one)
  --throttle KEY:MS       at most one job with KEY per MS milliseconds (later ones return it)
  --debounce KEY:MS       the last enqueue within MS wins: replaces the pending job's input,
                          which runs MS after the last enqueue
  --definition NAME[@V]   enqueue by job definition (validates input, applies its defaults;
                          give "-" as <name> to take the definition's name)
  --count N               enqueue N copies (batches of 1,000, with progress)
  --wait                  wait until the job finishes; exit 1 unless it completed
  --json                  print the job(s) as JSON

Examples:
  jobline enqueue emails send-email --input '{"to":"ada@example.com"}'
  jobline enqueue media - --definition thumbnail --input '{"image":"a.png","width":128}' --wait`,
  options: {
    input: { type: 'string' },
    priority: { type: 'string' },
    'run-at': { type: 'string' },
    'max-attempts': { type: 'string' },
    'timeout-ms': { type: 'string' },
    'idempotency-key': { type: 'string' },
    group: { type: 'string' },
    'singleton-key': { type: 'string' },
    throttle: { type: 'string' },
    debounce: { type: 'string' },
    definition: { type: 'string' },
    count: { type: 'string' },
    wait: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
  },
  async run({ values: v, positionals, json }) {
    const [queue, name, ...extra] = positionals;
    if (!queue || !name) throw new UsageError('give a queue and a job name');
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const count = intOption(v.count, 'count', 1, 10_000_000) ?? 1;
    if (count > 1 && v['idempotency-key'])
      throw new UsageError('--count and --idempotency-key do not mix: every copy would be the same job');
    if (count > 1 && v.wait) throw new UsageError('--wait works with a single job');
    const spec = {
      queue,
      ...(name === '-' ? {} : { name }),
      input: await parseInput(v.input as string | undefined),
      priority: intOption(v.priority, 'priority', -1_000_000, 1_000_000),
      runAt: v['run-at'] as string | undefined,
      maxAttempts: intOption(v['max-attempts'], 'max-attempts', 1, 1000),
      timeoutMs: intOption(v['timeout-ms'], 'timeout-ms', 1, 7 * 24 * 3600 * 1000),
      idempotencyKey: v['idempotency-key'] as string | undefined,
      definition: v.definition as string | undefined,
      group: v.group as string | undefined,
      singletonKey: v['singleton-key'] as string | undefined,
      throttle: policyWindow(v.throttle, 'throttle'),
      debounce: policyWindow(v.debounce, 'debounce'),
    } as EnqueueSpec;
    if (name === '-' && !v.definition) throw new UsageError('"-" as the name needs --definition');
    const jl = await connect();
    try {
      if (count === 1) {
        // TRACEPARENT (set for process jobs, or by a traced script) is the caller's trace: the job continues it.
        const [r] = await jl.insertJobs([spec], { callerTraceparent: process.env.TRACEPARENT }, true);
        let job: Job = r.job;
        if (v.wait) job = await waitForJob(jl, job.id);
        if (json) writeJson({ ...job, created: r.created, ...(r.policy ? { policy: r.policy } : {}) });
        else if (v.quiet) process.stdout.write(`${job.id}\n`);
        else
          process.stdout.write(
            `${r.created ? 'enqueued' : `already existed (${r.policy ?? 'idempotencyKey'}):`} job ${job.id} (${job.queue}/${job.name}) ${job.state}${job.state === 'failed' ? `: ${job.error?.message}` : ''}\n`,
          );
        return v.wait && job.state !== 'completed' ? 1 : 0;
      }
      return await enqueueMany(jl, spec, count, json);
    } finally {
      await jl.close();
    }
  },
};

async function enqueueMany(jl: Awaited<ReturnType<typeof connect>>, spec: EnqueueSpec, count: number, json: boolean): Promise<number> {
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let done = 0;
  let first = 0;
  let last = 0;
  while (done < count) {
    const n = Math.min(1000, count - done);
    const jobs = await jl.enqueueMany(
      Array.from({ length: n }, () => spec),
      { callerTraceparent: process.env.TRACEPARENT },
    );
    first ||= jobs[0].id;
    last = jobs[jobs.length - 1].id;
    done += n;
    const rate = Math.round(done / ((performance.now() - started) / 1000));
    if (tty) process.stderr.write(`\r${bar(done, count)} ${done}/${count} jobs  ${rate}/s `);
    else if (done === count || done % 100_000 === 0) process.stderr.write(`${done}/${count} jobs enqueued (${rate}/s)\n`);
  }
  if (tty) process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  if (json) writeJson({ count, firstId: first, lastId: last, seconds });
  else process.stdout.write(`enqueued ${count} jobs (ids ${first}…${last}) in ${seconds.toFixed(2)} s\n`);
  return 0;
}

async function waitForJob(jl: Awaited<ReturnType<typeof connect>>, id: number): Promise<Job> {
  const tty = process.stderr.isTTY;
  for (let i = 0; ; i++) {
    const job = await jl.getJob(id);
    if (FINISHED.has(job.state)) {
      if (tty && i) process.stderr.write('\n');
      return job;
    }
    if (tty) process.stderr.write(`\rjob ${id}: ${job.state}${job.attempt ? ` (attempt ${job.attempt}/${job.maxAttempts})` : ''}   `);
    // Polls at 50 ms doubling to 1 s: the library's backoff (step i = attempt i + 1), no jitter.
    await new Promise((r) => setTimeout(r, backoffDelayMs(i + 1, { baseMs: 50, maxMs: 1000, jitter: 0 })));
  }
}
