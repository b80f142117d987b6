/**
 * The dashboard's calls to the producer's JSON API. The sign-in cookie authenticates them
 * (same origin); changes carry `X-Jobline-Dashboard: 1`, which the producer requires for
 * cookie-authenticated writes (apps/producer/src/ui.ts).
 */
import type { Job as CoreJob } from '@jobline/core';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method === 'POST') headers['x-jobline-dashboard'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) {
    location.href = '/ui/';
    throw new ApiError(401, 'UNAUTHORIZED', 'signed out');
  }
  const data = await res.json().catch(() => undefined);
  if (!res.ok) {
    const e = (data as { error?: { code: string; message: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? 'HTTP', e?.message ?? `${method} ${path}: HTTP ${res.status}`);
  }
  return data as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, body);

/** A query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

// ---- response types (the producer's schemas: apps/producer/src/schemas/dashboard.ts) ----

export type Scope = 'read' | 'write' | 'admin';
export interface Session {
  name: string;
  scopes: Scope[];
  allQueues: boolean;
  queues?: string[];
  auth: boolean;
}

export interface Depth {
  n: number;
  estimated: boolean;
}
export interface QueueRow {
  name: string;
  paused: boolean;
  concurrencyLimit?: number;
  depth: Partial<Record<string, Depth>>;
  oldestAvailable?: { id: number; runAt: string; ageMs: number };
}
export interface QueueStats {
  queue: string;
  completed: number;
  failed: number;
  cancelled: number;
  failureRate?: number;
  pickupP50Ms?: number;
  pickupP99Ms?: number;
}
export interface WorkerRow {
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  version: string;
  startedAt: string;
  heartbeatAt: string;
  heartbeatAgeMs: number;
  inFlight: number;
}
export interface Overview {
  generatedAt: string;
  queues: QueueRow[];
  nextAfter?: string;
  depthCap: number;
  throughput: {
    windowMs: number;
    series: { t: string; completed: number; failed: number; pickupP50Ms?: number; pickupP99Ms?: number }[];
    queues: QueueStats[];
    sampleSize: number;
    sampled: boolean;
    sampleCap: number;
  };
  workers: WorkerRow[];
  outbox?: { rows: number; oldestAgeMs: number };
  tables?: Record<string, number>;
}

export interface JobError {
  message: string;
  name?: string;
  code?: string;
  stack?: string;
  [k: string]: unknown;
}
/** A value as JSON sends it: dates become ISO-8601 strings. */
type Json<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | undefined ? string | undefined : T[K] };

/**
 * The job as the API sends it: @jobline/core's `Job` (the one definition of its shape), as JSON.
 * A type-only import — erased from the bundle, so the browser code never loads core.
 */
export type Job = Json<CoreJob>;
export interface Execution {
  jobId: number;
  attempt: number;
  workerId?: string;
  state: string;
  startedAt?: string;
  finishedAt: string;
  durationMs?: number;
  output?: unknown;
  error?: JobError;
}
export interface DagRun {
  id: number;
  name: string;
  state: string;
  failurePolicy: string;
  nodeCount: number;
  nodesDone: number;
  createdAt: string;
  finishedAt?: string;
}
export interface DagNode {
  key: string;
  jobId: number;
  queue: string;
  name: string;
  state: string;
  jobState: string;
  dependsOn: string[];
  children: string[];
  remainingDeps: number;
  attempt: number;
  maxAttempts: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  workerId?: string;
  error?: JobError;
}
export interface DagDetail extends DagRun {
  nodes: DagNode[];
  edges: { from: string; to: string }[];
}
export interface Schedule {
  id: number;
  name: string;
  description?: string;
  cron: string;
  timezone: string;
  job?: Record<string, unknown>;
  dag?: Record<string, unknown>;
  paused: boolean;
  nextRunAt?: string;
  constraint?: Record<string, unknown>;
  actions: { action: string; trigger: string }[];
}
export interface ScheduleRun {
  id: number;
  scheduleId: number;
  scheduledAt: string;
  trigger: string;
  jobId?: number;
  dagRunId?: number;
  status: string;
  attempt: number;
  startedAt?: string;
  completedAt?: string;
}
export interface Violation {
  id: number;
  runId?: number;
  scheduleId: number;
  schedule?: string;
  type: string;
  occurredAt: string;
  actionTaken: string;
  details: Record<string, unknown>;
}

/** GET /v1/queues/:name/groups */
export interface RateLimit {
  limit: number;
  periodMs: number;
}
export interface QueueGroups {
  queue: string;
  settings: {
    groupConcurrency?: number | { default?: number; tiers: Record<string, number> };
    rateLimit?: RateLimit;
    groupRateLimit?: RateLimit;
  };
  groups: { group: string; running: number; available: number; tier?: string; weight: number; heldReason?: string; limit?: number }[];
}
