/**
 * The `container` executor: runs a definition's image through the Docker Engine API (Docker, or
 * podman's compatible service). One attempt = one container, created → started → waited for →
 * removed, whatever the outcome:
 *
 * - image, `command` (replaces the image's entrypoint) and `args` (its command), as Kubernetes does;
 * - env: the worker variables named in `secretEnv`, the definition's `env`, JOBLINE_* and
 *   TRACEPARENT — nothing else of the worker's environment;
 * - resources: `cpu` → NanoCpus, `memoryMb` → Memory, `network` → NetworkMode;
 * - input: JSON on stdin (attached before start, closed after the input) or a JSON file copied
 *   into the container before start (`container.input: "file"`, path in JOBLINE_INPUT_FILE);
 * - output: JSON from stdout (the whole of it, or its last line), or from `container.outputPath`
 *   (read from the stopped container, path in JOBLINE_OUTPUT_FILE);
 * - failure: exit code, OOM kill and the tail of stderr in the attempt's error record;
 * - timeout, cancel, shutdown (the AbortSignal): the container is killed and removed at once;
 * - labels: job id, attempt, worker id, definition and a scope (database/schema), so containers of
 *   a worker that died (SIGKILL) are found and reaped on worker start and by the leader's rescuer.
 *
 * Secret values are only ever in the create request's body: never logged, never in an error.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { ContainerSettingsSchema, type ContainerSettings, type Definition } from '../definitions/schema.js';
import type { Job } from '../model/job.js';
import { DockerApiError, DockerClient, readAll, resolveDockerSocket } from './docker-client.js';
import { firstFileOfTar, LogDemuxer, tarFileAt } from './docker-stream.js';
import { BadContainerOutputError, ContainerExitError, ImageMissingError } from './container-errors.js';
import { ImagePuller } from './container-images.js';
import { LABELS, reapContainers } from './container-reaper.js';
import { jobEnv, parseOutput, TailBuffer } from './job-env.js';
import type { ExecutionContext, Executor, ExecutorCapabilities, ExecutorHooks } from './types.js';

export interface ContainerExecutorOptions {
  /** The engine's unix socket. @default JOBLINE_DOCKER_SOCKET, else DOCKER_HOST (unix://), else /var/run/docker.sock */
  socketPath?: string;
  /** Network mode for definitions whose resources name none. @default the engine's default */
  defaultNetwork?: string;
  /** Largest output (stdout or output file) accepted; more fails the attempt without retry. @default 1048576 */
  maxOutputBytes?: number;
  /** How much of stderr's end is kept for the error record. @default 4096 */
  stderrTailBytes?: number;
  /** Where `secretEnv` values come from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** How long stop() waits for containers of aborted attempts to be removed. @default 5000 */
  stopWaitMs?: number;
}

const DEFAULT_INPUT_PATH = '/jobline/input.json';

export class ContainerExecutor implements Executor {
  readonly kind = 'container' as const;
  readonly client: DockerClient;
  private readonly images: ImagePuller;
  private hooks: ExecutorHooks | undefined;
  private engine = 'unknown';
  /** Removals in flight by container id: each container is removed once, and stop() waits for them. */
  private readonly removals = new Map<string, Promise<void>>();
  private readonly maxOut: number;
  private readonly tailBytes: number;

  constructor(private readonly o: ContainerExecutorOptions = {}) {
    this.client = new DockerClient(o.socketPath ?? resolveDockerSocket());
    this.images = new ImagePuller(this.client);
    this.maxOut = o.maxOutputBytes ?? 1024 * 1024;
    this.tailBytes = o.stderrTailBytes ?? 4096;
  }

  capabilities(): ExecutorCapabilities {
    return { kind: this.kind, details: { socketPath: this.client.socketPath, engine: this.engine } };
  }

  /** Checks the engine answers, then reaps containers of dead workers (and of an earlier process with this worker's id). */
  async start(hooks: ExecutorHooks): Promise<void> {
    this.hooks = hooks;
    const { value } = await this.client.json<{ Version?: string; Components?: { Name: string }[] }>('GET', '/version', {
      what: 'asking the engine for its version',
    });
    this.engine = `${value?.Components?.[0]?.Name ?? 'Docker Engine'} ${value?.Version ?? ''}`.trim();
    await reapContainers(this.client, hooks, { includeSelf: true });
  }

  async afterRescue(hooks: ExecutorHooks): Promise<void> {
    await reapContainers(this.client, hooks, { includeSelf: false });
  }

  async stop(): Promise<void> {
    const wait = new Promise<void>((r) => setTimeout(r, this.o.stopWaitMs ?? 5000).unref());
    await Promise.race([Promise.allSettled([...this.removals.values()]), wait]);
  }

  async run(def: Definition, input: unknown, ctx: ExecutionContext): Promise<unknown> {
    const { signal, job, logger } = ctx;
    const hooks = this.hooks;
    if (!hooks) throw new Error('the container executor was not started; the worker starts it before claiming');
    signal.throwIfAborted();
    const settings = ContainerSettingsSchema.parse(def.container ?? {});
    const inputPath = settings.inputPath ?? DEFAULT_INPUT_PATH;
    const env = jobEnv(def, job, this.o.env ?? process.env, []);
    if (settings.input === 'file') env.JOBLINE_INPUT_FILE = inputPath;
    if (settings.outputPath) env.JOBLINE_OUTPUT_FILE = settings.outputPath;

    const id = await this.create(def, settings, env, job, hooks, signal);
    // From here the container exists: it is removed whatever happens, at once on abort.
    const onAbort = () => {
      logger.info(
        { container: id.slice(0, 12), reason: (signal.reason as Error)?.name },
        'stopping container job: killing and removing its container',
      );
      void this.remove(id, logger);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      signal.throwIfAborted();
      let stdin: Socket | undefined;
      if (settings.input === 'stdin') {
        stdin = await this.client.attachStdin(id, signal);
        stdin.on('error', () => {}); // a program that exits without reading its input: fine
      } else {
        await this.client.call('PUT', `/containers/${id}/archive`, {
          query: { path: '/' },
          rawBody: tarFileAt(inputPath, Buffer.from(JSON.stringify(input ?? null))),
          contentType: 'application/x-tar',
          signal,
          what: `copying the input file to ${inputPath}`,
        });
      }
      await this.client.call('POST', `/containers/${id}/start`, { signal, what: `starting the container of job ${job.id}` });
      logger.debug({ container: id.slice(0, 12), image: def.image }, 'container job started');
      stdin?.end(JSON.stringify(input ?? null) + '\n');
      const { value: waited } = await this.client.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`, {
        signal,
        what: `waiting for the container of job ${job.id}`,
      });
      const exitCode = waited.StatusCode;
      const { stdout, stderrTail, overflow } = await this.readLogs(id, signal, settings.outputPath === undefined);
      if (exitCode !== 0) throw new ContainerExitError(def.image!, exitCode, stderrTail, await this.oomKilled(id, signal));
      if (settings.outputPath)
        return parseJson(await this.readOutputFile(id, settings.outputPath, signal), def, `its output file ${settings.outputPath}`);
      if (overflow)
        throw new BadContainerOutputError(
          `container of image "${def.image}" wrote over ${this.maxOut} bytes to stdout; write large results elsewhere and print a reference`,
        );
      return parseJson(stdout, def, 'its stdout');
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await this.remove(id, logger);
    }
  }

  private async create(
    def: Definition,
    st: ContainerSettings,
    env: Record<string, string>,
    job: Job,
    hooks: ExecutorHooks,
    signal: AbortSignal,
  ): Promise<string> {
    const stdin = st.input === 'stdin';
    const r = def.resources;
    const network = typeof r.network === 'string' ? r.network : this.o.defaultNetwork;
    const body = {
      Image: def.image,
      ...(def.command !== undefined ? { Entrypoint: [def.command] } : {}),
      ...(def.command !== undefined || def.args.length ? { Cmd: def.args } : {}),
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: {
        [LABELS.scope]: hooks.scope,
        [LABELS.worker]: hooks.workerId,
        [LABELS.jobId]: String(job.id),
        [LABELS.attempt]: String(job.attempt),
        [LABELS.definition]: `${def.name}@${def.version}`,
      },
      AttachStdin: stdin,
      OpenStdin: stdin,
      StdinOnce: stdin,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      HostConfig: {
        ...(typeof r.cpu === 'number' ? { NanoCpus: Math.round(r.cpu * 1e9) } : {}),
        ...(typeof r.memoryMb === 'number' ? { Memory: r.memoryMb * 1024 * 1024 } : {}),
        ...(network ? { NetworkMode: network } : {}),
      },
    };
    const name = `jobline-${job.id}-${job.attempt}-${randomBytes(3).toString('hex')}`;
    const what = `creating the container of job ${job.id} from image "${def.image}"`;
    for (let pulled = false; ; pulled = true) {
      try {
        const { value } = await this.client.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body, signal, what });
        return value.Id;
      } catch (err) {
        const missing = err instanceof DockerApiError && err.status === 404 && /image/i.test(err.engineMessage);
        if (!missing || pulled) throw err;
        if (st.pullPolicy === 'never') throw new ImageMissingError(def.image!, this.client.socketPath);
        await this.images.pull(def.image!, signal);
      }
    }
  }

  private async readLogs(
    id: string,
    signal: AbortSignal,
    wantStdout: boolean,
  ): Promise<{ stdout: string; stderrTail: string; overflow: boolean }> {
    const tail = new TailBuffer(this.tailBytes);
    const demux = new LogDemuxer(wantStdout ? this.maxOut : 0, (d) => tail.push(d));
    const { status, stream } = await this.client.stream('GET', `/containers/${id}/logs`, {
      query: { stdout: wantStdout, stderr: true },
      signal,
      what: 'reading the container logs',
    });
    if (status !== 200)
      throw new DockerApiError(status, (await readAll(stream, 65536)).toString('utf8'), `reading the logs of container ${id}`);
    for await (const chunk of stream as AsyncIterable<Buffer>) demux.push(chunk);
    return { stdout: demux.stdoutText(), stderrTail: tail.text(), overflow: demux.overflow };
  }

  private async readOutputFile(id: string, file: string, signal: AbortSignal): Promise<string> {
    const { status, body } = await this.client.call('GET', `/containers/${id}/archive`, {
      query: { path: file },
      signal,
      ok: [404],
      maxBytes: this.maxOut + 64 * 1024,
      what: `reading the output file ${file}`,
    });
    if (status === 404)
      throw new BadContainerOutputError(
        `the container exited 0 but wrote no output file at ${file} (the definition's container.outputPath); write the result there as JSON`,
      );
    const content = firstFileOfTar(body);
    if (!content) throw new BadContainerOutputError(`${file} in the container is not a regular file; write the result there as JSON`);
    if (content.length > this.maxOut)
      throw new BadContainerOutputError(
        `the output file ${file} is over ${this.maxOut} bytes; write large results elsewhere and put a reference there`,
      );
    return content.toString('utf8');
  }

  private async oomKilled(id: string, signal: AbortSignal): Promise<boolean> {
    try {
      const { value } = await this.client.json<{ State?: { OOMKilled?: boolean } }>('GET', `/containers/${id}/json`, {
        signal,
        what: 'inspecting the container',
      });
      return value.State?.OOMKilled === true;
    } catch {
      return false; // only a better message is lost
    }
  }

  /** Kills and removes a container, once; a container already gone is fine. */
  private remove(id: string, logger: ExecutionContext['logger']): Promise<void> {
    let p = this.removals.get(id);
    if (!p) {
      p = this.client
        .call('DELETE', `/containers/${id}`, { query: { force: true, v: true }, ok: [404, 409], what: `removing container ${id}` })
        .then(
          () => undefined,
          // Left for the reaper: the labels name this worker, which the rescuer sees dead once it stops.
          (err: unknown) =>
            logger.warn(
              { err, container: id.slice(0, 12) },
              'removing the container failed; the reaper removes it once this worker is gone',
            ),
        );
      this.removals.set(id, p);
      void p.then(() => setTimeout(() => this.removals.delete(id), 60_000).unref());
    }
    return p;
  }
}

function parseJson(text: string, def: Definition, where: string): unknown {
  const out = parseOutput(text);
  if (out.ok) return out.value;
  throw new BadContainerOutputError(
    `container of image "${def.image}" exited 0 but ${where} is not JSON (print the result as JSON, logs to stderr): ${JSON.stringify(text.slice(0, 200))}`,
  );
}
