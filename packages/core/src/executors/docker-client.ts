/**
 * A small Docker Engine API client: plain HTTP over the engine's unix socket with `node:http`.
 * Why not `dockerode`: the executor needs eight endpoints (create, attach, start, wait, logs,
 * archive, delete, list) and the multiplexed-stream format; dockerode brings docker-modem, ssh2
 * and tar-fs (with native crypto bindings) for that, and its callback/stream API would still be
 * wrapped here for AbortSignal. The engine API is stable and versioned (`/v1.41`, served by
 * Docker ≥ 20.10 and by podman's compatibility service).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ErrorCode, JoblineError } from '../db/errors.js';

export const DOCKER_API_VERSION = 'v1.41';

/**
 * The engine socket: JOBLINE_DOCKER_SOCKET, else DOCKER_HOST (unix:// only), else
 * /var/run/docker.sock (DESIGN §6). A tcp:// DOCKER_HOST is refused with what to set instead.
 */
export function resolveDockerSocket(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JOBLINE_DOCKER_SOCKET) return env.JOBLINE_DOCKER_SOCKET;
  const host = env.DOCKER_HOST;
  if (host) {
    if (host.startsWith('unix://')) return host.slice('unix://'.length);
    throw new Error(
      `DOCKER_HOST=${host} is not a unix:// socket; the container executor talks to the engine over a unix socket — set JOBLINE_DOCKER_SOCKET to its path`,
    );
  }
  return '/var/run/docker.sock';
}

export class DockerApiError extends JoblineError {
  override readonly code = ErrorCode.DockerApi;
  constructor(
    readonly status: number,
    readonly engineMessage: string,
    what: string,
  ) {
    super(`${what}: the engine answered ${status}: ${engineMessage}`);
    this.name = 'DockerApiError';
  }
}

export class DockerUnreachableError extends JoblineError {
  override readonly code = ErrorCode.DockerUnreachable;
  constructor(socketPath: string, cause: Error) {
    super(
      `cannot reach the Docker Engine API at ${socketPath} (${cause.message}); start the engine or set JOBLINE_DOCKER_SOCKET / DOCKER_HOST to its socket`,
      { cause },
    );
    this.name = 'DockerUnreachableError';
  }
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
  /** Stated in errors ("creating the container for job 7"). */
  what: string;
}

export interface StreamResponse {
  status: number;
  stream: Readable;
}

export class DockerClient {
  constructor(readonly socketPath: string) {}

  private path(p: string, query?: RequestOptions['query']): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const q = qs.toString();
    return `/${DOCKER_API_VERSION}${p}${q ? `?${q}` : ''}`;
  }

  /** Starts a request; resolves with the response stream (any status). */
  stream(method: string, p: string, o: RequestOptions & { rawBody?: Buffer; contentType?: string }): Promise<StreamResponse> {
    return new Promise((resolve, reject) => {
      const payload = o.rawBody ?? (o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body)));
      const req = http.request({
        socketPath: this.socketPath,
        method,
        path: this.path(p, o.query),
        signal: o.signal,
        headers: payload ? { 'content-type': o.contentType ?? 'application/json', 'content-length': payload.length } : {},
      });
      req.on('response', (res) => resolve({ status: res.statusCode ?? 0, stream: res }));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') reject(o.signal?.reason ?? err);
        else if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EACCES')
          reject(new DockerUnreachableError(this.socketPath, err));
        else reject(err);
      });
      req.end(payload);
    });
  }

  /** A request whose whole (bounded) body is read; non-2xx statuses become DockerApiError unless `ok` lists them. */
  async call(
    method: string,
    p: string,
    o: RequestOptions & { ok?: number[]; rawBody?: Buffer; contentType?: string; maxBytes?: number },
  ): Promise<{ status: number; body: Buffer }> {
    const { status, stream } = await this.stream(method, p, o);
    const body = await readAll(stream, o.maxBytes ?? 16 * 1024 * 1024);
    if ((status < 200 || status > 299) && !o.ok?.includes(status)) throw new DockerApiError(status, engineMessage(body), o.what);
    return { status, body };
  }

  async json<T>(method: string, p: string, o: RequestOptions & { ok?: number[] }): Promise<{ status: number; value: T }> {
    const { status, body } = await this.call(method, p, o);
    return { status, value: (body.length ? JSON.parse(body.toString('utf8')) : undefined) as T };
  }

  /**
   * Attaches to a created container's stdin (the connection is hijacked, HTTP 101) and returns
   * the raw socket: what is written there is the program's stdin, and ending it closes stdin
   * (the container is created with StdinOnce).
   */
  attachStdin(id: string, signal?: AbortSignal): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath,
        method: 'POST',
        path: this.path(`/containers/${id}/attach`, { stream: 1, stdin: 1, stdout: 0, stderr: 0 }),
        headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
        signal,
      });
      req.on('upgrade', (_res, socket) => resolve(socket));
      req.on('response', async (res) =>
        reject(
          new DockerApiError(res.statusCode ?? 0, engineMessage(await readAll(res, 65536)), `attaching to the stdin of container ${id}`),
        ),
      );
      req.on('error', (err) => reject(err.name === 'AbortError' ? (signal?.reason ?? err) : err));
      req.end();
    });
  }
}

export async function readAll(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > maxBytes) {
      stream.destroy();
      throw Object.assign(new Error(`the engine's response is over ${maxBytes} bytes`), { code: 'TOO_LARGE' });
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** The engine's `{"message": …}` error body, or the body as text. */
export function engineMessage(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON
  }
  return text.slice(0, 500) || '(empty body)';
}
