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
import type { Definition } from '../definitions/schema.js';
import type { Job } from '../model/job.js';
import { ErrorCode, JoblineError, NonRetryableError } from '../db/errors.js';
import { BASE_ENV, jobEnv, parseOutput, redactSecrets, TailBuffer } from './job-env.js';
import type { ExecutionContext, Executor, ExecutorCapabilities } from './types.js';

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

export class ProcessExitError extends JoblineError {
  override readonly code = ErrorCode.ProcessExit;
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

/** The environment of a process job: the worker's minimal base, its `secretEnv`, the definition's `env`, JOBLINE_* and TRACEPARENT. */
export const processEnv = (def: Definition, job: Job, workerEnv: NodeJS.ProcessEnv): Record<string, string> =>
  jobEnv(def, job, workerEnv, BASE_ENV);

export { parseOutput };

export async function runProcessJob(
  def: Definition,
  input: unknown,
  ctx: ExecutionContext,
  o: ProcessExecutorOptions = {},
): Promise<unknown> {
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
    const stderrTail = new TailBuffer(tailBytes);
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
      finish(() =>
        reject(
          Object.assign(new Error(`could not start "${command}": ${err.message}`), {
            code: (err as NodeJS.ErrnoException).code ?? 'SPAWN_FAILED',
          }),
        ),
      ),
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
      stderrTail.push(d);
    });

    const done = (code: number | null, sig: NodeJS.Signals | null) =>
      finish(() => {
        // A program that prints a secret when it fails must not publish it (database, events, logs).
        const tail = redactSecrets(stderrTail.text(), def, env);
        if (signal.aborted) return reject(signal.reason);
        if (tooMuch)
          return reject(
            new NonRetryableError(
              `process "${command}" wrote over ${maxOut} bytes to stdout; write large results elsewhere and print a reference`,
            ),
          );
        if (code !== 0) return reject(new ProcessExitError(command, code, sig, tail));
        const out = parseOutput(Buffer.concat(stdout).toString('utf8'));
        if (!out.ok) {
          const head = redactSecrets(Buffer.concat(stdout).toString('utf8'), def, env).slice(0, 200);
          return reject(
            Object.assign(
              new NonRetryableError(
                `process "${command}" exited 0 but its stdout is not JSON (print the result as JSON, logs to stderr): ${JSON.stringify(head)}`,
              ),
              { code: 'BAD_OUTPUT' },
            ),
          );
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

/** The `process` executor: runs the definition's command on this worker's host. */
export class ProcessExecutor implements Executor {
  readonly kind = 'process' as const;
  constructor(private readonly o: ProcessExecutorOptions = {}) {}
  run(def: Definition, input: unknown, ctx: ExecutionContext): Promise<unknown> {
    return runProcessJob(def, input, ctx, this.o);
  }
  capabilities(): ExecutorCapabilities {
    return { kind: this.kind };
  }
}
