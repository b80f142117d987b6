/** Real worker processes for concurrency and fault tests; killed by pid on cleanup. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/worker-process.mjs', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  id: string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string | null>;
  /** Everything the process printed on stdout so far. */
  output(): string;
}

export async function startWorkerProcess(env: Record<string, string>, fixture = FIXTURE): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [fixture], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | string | null>((r) => child.on('exit', (code, sig) => r(code ?? sig)));
  let buf = '';
  child.stdout!.on('data', (d) => (buf += d));
  const id = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const m = /ready (\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`worker process exited early with ${code}`)));
  });
  return { child, id, exited, output: () => buf };
}

export async function stopAll(procs: WorkerProcess[], signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await Promise.all(procs.map((p) => p.exited));
}

/** Dead, or a zombie waiting for a reaper (it no longer runs). */
export function dead(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    return / Z /.test(readFileSync(stat, 'utf8'));
  } catch {
    return true;
  }
}
