import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appEntry } from '../app-paths.js';

/**
 * Runs another app's entry point as a child process (apps never import each other, DESIGN §9)
 * and mirrors its exit code. The child gets its own process group so a terminal's Ctrl-C
 * reaches it once — forwarded by us — and a second Ctrl-C can still force it (the worker's
 * two-signal shutdown).
 */
export function runApp(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  onStdout?: (line: string) => void,
): Promise<number> {
  if (!existsSync(entry)) {
    process.stderr.write(`jobline: ${entry} is missing; in a checkout, build first (npm run build)\n`);
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...args], {
      stdio: ['ignore', onStdout ? 'pipe' : 'inherit', 'inherit'],
      env,
      detached: true,
    });
    if (onStdout) {
      // Passed through unchanged, and shown to the caller line by line.
      let buf = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        process.stdout.write(chunk);
        buf += chunk.toString('utf8');
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          onStdout(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    const forward = (sig: NodeJS.Signals) => () => {
      try {
        child.kill(sig);
      } catch {
        // already gone
      }
    };
    const onTerm = forward('SIGTERM');
    const onInt = forward('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    // If we die, so does the app (it would otherwise keep running in its own group).
    const onExit = () => child.kill('SIGTERM');
    process.on('exit', onExit);
    child.on('exit', (code, signal) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.off('exit', onExit);
      resolve(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15) : 1));
    });
  });
}

export { BENCH_RUN } from '../app-paths.js';
export const PRODUCER_MAIN = appEntry('@jobline/producer');
export const WORKER_MAIN = appEntry('@jobline/worker');
