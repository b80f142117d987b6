/**
 * Runs process jobs (definitions with executor "process"): spawns the definition's command in a
 * process group of its own, writes the job input as JSON on stdin, takes the output from stdout
 * as JSON, and on failure records the exit code or signal and the tail of stderr. On timeout,
 * cancel or shutdown (the attempt's AbortSignal) the whole group gets SIGTERM, then SIGKILL
 * after `killGraceMs`, so shells and their children go too.
 *
 * Environment: a minimal base from the worker (PATH, HOME, LANG, TZ, …) — never the worker's
 * whole environment, which holds DATABASE_URL and tokens — plus the worker variables named in
 * the definition's `secretEnv`, the definition's `env`, and the job's own JOBLINE_* variables
 * (job id, queue, name, attempt, definition, traceparent), which win.
 */
import { spawn } from 'node:child_process';
import type { Definition, Job, JobContext } from '@jobline/core';
import { NonRetryableError } from '@jobline/core';

export interface ProcessExecutorOptions {
  /** Between SIGTERM and SIGKILL of the process group. @default 2000 */
  killGraceMs?: number;
  /** Largest stdout accepted; more fails the attempt (without retry). @default 1048576 */
  maxOutputBytes?: number;
  /** How much of stderr's end is kept for the error record. @default 4096 */
  stderrTailBytes?: number;
  /** Worker environment the base is taken from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const BASE_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'];

export class ProcessExitError extends Error {
  readonly code = 'PROCESS_EXIT';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${signal}`;
    super(`process "${command}" ${how}${stderrTail ? `; stderr (end):\n${stderrTail}` : ' with no stderr output'}`);
    this.name = 'ProcessExitError';
    this.stack = undefined; // our stack says nothing about the child's failure
  }
}

/** Process groups still running, killed if the worker process exits without stopping them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const g of liveGroups) killGroup(g, 'SIGKILL');
    });
  }
  liveGroups.add(pid);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already
  }
}

export function processEnv(def: Definition, job: Job, workerEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of BASE_ENV) if (workerEnv[k] !== undefined) env[k] = workerEnv[k]!;
  const missing = def.secretEnv.filter((k) => workerEnv[k] === undefined);
  if (missing.length) {
    throw new Error(`definition ${def.name}@${def.version} needs ${missing.join(', ')} from the worker's environment, which this worker does not have`);
  }
  for (const k of def.secretEnv) env[k] = workerEnv[k]!;
  Object.assign(env, def.env, {
    JOBLINE_JOB_ID: String(job.id),
    JOBLINE_QUEUE: job.queue,
    JOBLINE_JOB_NAME: job.name,
    JOBLINE_ATTEMPT: String(job.attempt),
    JOBLINE_MAX_ATTEMPTS: String(job.maxAttempts),
    JOBLINE_DEFINITION: `${def.name}@${def.version}`,
    ...(job.traceparent ? { TRACEPARENT: job.traceparent } : {}),
  });
  return env;
}

/**
 * Replaces the values of the definition's secret variables in text that leaves the process (the
 * stderr tail and the stdout head of an error, which go to the database, events and logs): a
 * program that prints its password when it fails must not publish it.
 */
export function redactSecrets(text: string, def: Definition, env: Record<string, string>): string {
  let out = text;
  for (const k of def.secretEnv) {
    const v = env[k];
    if (v) out = out.split(v).join(`[secret ${k}]`);
  }
  return out;
}

/** Parses stdout: the whole of it as JSON, else its last non-empty line (programs that log first). */
export function parseOutput(stdout: string): { ok: true; value: unknown } | { ok: false } {
  const text = stdout.trim();
  if (text === '') return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const last = text.split('\n').pop()!.trim();
    try {
      return { ok: true, value: JSON.parse(last) };
    } catch {
      return { ok: false };
    }
  }
}

/** The last `bytes` bytes of `text` (at a character boundary). */
function tailOf(text: string, bytes: number): string {
  const b = Buffer.from(text, 'utf8');
  return b.length <= bytes ? text : b.subarray(b.length - bytes).toString('utf8');
}

export async function runProcessJob(def: Definition, input: unknown, ctx: JobContext, o: ProcessExecutorOptions = {}): Promise<unknown> {
  const killGraceMs = o.killGraceMs ?? 2000;
  const maxOut = o.maxOutputBytes ?? 1024 * 1024;
  const tailBytes = o.stderrTailBytes ?? 4096;
  const { signal, logger } = ctx;
  if (signal.aborted) throw signal.reason;
  const env = processEnv(def, ctx.job, o.env ?? process.env);
  const command = def.command!;

  return await new Promise((resolve, reject) => {
    const child = spawn(command, def.args, { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = child.pid;
    let settled = false;
    let stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrTail = Buffer.alloc(0);
    let tooMuch = false;
    let killTimer: NodeJS.Timeout | undefined;

    const terminate = () => {
      if (pid === undefined) return;
      killGroup(pid, 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup(pid, 'SIGKILL'), killGraceMs);
      killTimer.unref?.();
    };
    const onAbort = () => {
      logger.info({ pid, reason: (signal.reason as Error)?.name }, 'stopping process job: killing its process group');
      terminate();
    };
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (pid !== undefined) {
        // Leftovers (background children that kept running) are the job's too.
        killGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
      }
      clearTimeout(killTimer);
      fn();
    };

    child.on('error', (err) =>
      finish(() => reject(Object.assign(new Error(`could not start "${command}": ${err.message}`), { code: (err as NodeJS.ErrnoException).code ?? 'SPAWN_FAILED' }))),
    );
    if (pid === undefined) return; // 'error' follows
    trackGroup(pid);
    signal.addEventListener('abort', onAbort, { once: true });
    logger.debug({ pid, command, args: def.args }, 'process job started');

    child.stdin.on('error', () => {}); // a program that does not read its input closes the pipe: fine
    child.stdin.end(JSON.stringify(input ?? null) + '\n');
    child.stdout.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
      if (stdoutBytes > maxOut) {
        if (!tooMuch) {
          tooMuch = true;
          stdout = [];
          terminate();
        }
        return;
      }
      stdout.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderrTail = Buffer.concat([stderrTail, d]);
      if (stderrTail.length > tailBytes * 2) stderrTail = stderrTail.subarray(stderrTail.length - tailBytes);
    });

    const done = (code: number | null, sig: NodeJS.Signals | null) =>
      finish(() => {
        // Redacted before it is cut to size, so a secret at the cut is not half kept.
        const tail = tailOf(redactSecrets(stderrTail.toString('utf8'), def, env), tailBytes).trimEnd();
        if (signal.aborted) return reject(signal.reason);
        if (tooMuch) return reject(new NonRetryableError(`process "${command}" wrote over ${maxOut} bytes to stdout; write large results elsewhere and print a reference`));
        if (code !== 0) return reject(new ProcessExitError(command, code, sig, tail));
        const out = parseOutput(Buffer.concat(stdout).toString('utf8'));
        if (!out.ok) {
          const head = redactSecrets(Buffer.concat(stdout).toString('utf8'), def, env).slice(0, 200);
          return reject(Object.assign(new NonRetryableError(`process "${command}" exited 0 but its stdout is not JSON (print the result as JSON, logs to stderr): ${JSON.stringify(head)}`), { code: 'BAD_OUTPUT' }));
        }
        resolve(out.value);
      });

    // 'close' comes once stdio has ended, so every byte the program wrote has been read. A
    // background child still holding the pipes would delay it forever: when the leader exits,
    // the rest of its group goes (it is the job's), and a process that left the group gets
    // two seconds before its pipes are cut.
    child.on('close', done);
    child.on('exit', (code, sig) => {
      killGroup(pid, 'SIGKILL');
      const t = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        done(code, sig);
      }, 2000);
      t.unref?.();
    });
  });
}
