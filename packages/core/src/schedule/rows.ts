/**
 * Row mapping for the schedule tables, one function per table: snake_case → camelCase,
 * intervals read as milliseconds (the SELECT lists convert them), nullable → optional.
 */
import type { ActionTrigger, ActionType, ViolationType } from './schema.js';
import type { RunStatus, RunTrigger } from '../model/states.js';
import type { ResolvedWebhookConfig } from './schema.js';

const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

export interface Constraint {
  id: number;
  name: string;
  maxConcurrentRuns?: number;
  concurrencyPolicy: 'skip' | 'delay';
  catchUp: boolean;
  catchUpWindowMs?: number;
  maxExpectedRunTimeMs?: number;
  maxAllowedRunTimeMs?: number;
  preRunHook?: ResolvedWebhookConfig & { required: boolean };
  postRunHook?: ResolvedWebhookConfig;
  requirePreviousSuccess?: true | { schedule: string } | { job: string; queue: string };
  createdAt: Date;
  updatedAt: Date;
}

export const CONSTRAINT_COLUMNS = `c.id, c.name, c.max_concurrent_runs, c.concurrency_policy, c.catch_up,
  extract(epoch from c.catch_up_window) * 1000 as catch_up_window_ms,
  extract(epoch from c.max_expected_run_time) * 1000 as max_expected_run_time_ms,
  extract(epoch from c.max_allowed_run_time) * 1000 as max_allowed_run_time_ms,
  c.pre_run_hook, c.post_run_hook, c.require_previous_success, c.created_at, c.updated_at`;

const ms = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Math.round(Number(v)));

/** A `constraints` row as selected with `CONSTRAINT_COLUMNS` (intervals as ms numbers). */
export interface ConstraintRow {
  id: number;
  name: string;
  max_concurrent_runs: number | null;
  concurrency_policy: 'skip' | 'delay';
  catch_up: boolean;
  catch_up_window_ms: number | string | null;
  max_expected_run_time_ms: number | string | null;
  max_allowed_run_time_ms: number | string | null;
  pre_run_hook: (ResolvedWebhookConfig & { required: boolean }) | null;
  post_run_hook: ResolvedWebhookConfig | null;
  require_previous_success: Constraint['requirePreviousSuccess'] | null;
  created_at: Date;
  updated_at: Date;
}

export function mapConstraint(r: ConstraintRow): Constraint {
  return {
    id: r.id,
    name: r.name,
    maxConcurrentRuns: opt(r.max_concurrent_runs),
    concurrencyPolicy: r.concurrency_policy,
    catchUp: r.catch_up,
    catchUpWindowMs: ms(r.catch_up_window_ms),
    maxExpectedRunTimeMs: ms(r.max_expected_run_time_ms),
    maxAllowedRunTimeMs: ms(r.max_allowed_run_time_ms),
    preRunHook: opt(r.pre_run_hook),
    postRunHook: opt(r.post_run_hook),
    // false is stored as null
    requirePreviousSuccess: r.require_previous_success ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface Action {
  id: number;
  name: string;
  type: ActionType;
  config: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** An `actions` row. */
export interface ActionRow {
  id: number;
  name: string;
  action_type: ActionType;
  config: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export function mapAction(r: ActionRow): Action {
  return { id: r.id, name: r.name, type: r.action_type, config: r.config, createdAt: r.created_at, updatedAt: r.updated_at };
}

export interface ScheduleActionBinding {
  actionId: number;
  action: string;
  type: ActionType;
  trigger: ActionTrigger;
  constraintId?: number;
  constraint?: string;
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
  constraintId?: number;
  constraint?: Constraint;
  actions: ScheduleActionBinding[];
  materialisedUntil: Date;
  skipNext: number;
  createdAt: Date;
  updatedAt: Date;
  /** The next occurrence after now (computed; absent when paused). */
  nextRunAt?: Date;
}

export const SCHEDULE_COLUMNS = `s.id, s.name, s.description, s.cron_expression, s.timezone, s.job_template,
  s.dag_template, s.paused, s.constraint_id, s.materialised_until, s.skip_next, s.created_at, s.updated_at`;

/** A `schedules` row as selected with `SCHEDULE_COLUMNS`. */
export interface ScheduleRow {
  id: number;
  name: string;
  description: string | null;
  cron_expression: string;
  timezone: string;
  job_template: Record<string, unknown> | null;
  dag_template: Record<string, unknown> | null;
  paused: boolean;
  constraint_id: number | null;
  materialised_until: Date;
  skip_next: number;
  created_at: Date;
  updated_at: Date;
}

export function mapSchedule(r: ScheduleRow): Schedule {
  return {
    id: r.id,
    name: r.name,
    description: opt(r.description),
    cron: r.cron_expression,
    timezone: r.timezone,
    job: opt(r.job_template),
    dag: opt(r.dag_template),
    paused: r.paused,
    constraintId: opt(r.constraint_id),
    actions: [],
    materialisedUntil: r.materialised_until,
    skipNext: r.skip_next,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface ScheduleRun {
  id: number;
  scheduleId: number;
  scheduledAt: Date;
  trigger: RunTrigger;
  jobId?: number;
  dagRunId?: number;
  status: RunStatus;
  attempt: number;
  gatePassedAt?: Date;
  startedAt?: Date;
  completedAt?: Date;
  expectedExceededAt?: Date;
  handledAt?: Date;
  details: Record<string, unknown>;
  createdAt: Date;
}

export const RUN_COLUMNS = `r.id, r.schedule_id, r.scheduled_at, r.trigger, r.job_id, r.dag_run_id, r.status, r.attempt,
  r.gate_passed_at, r.started_at, r.completed_at, r.expected_exceeded_at, r.handled_at, r.details, r.created_at`;

/** A `schedule_runs` row as selected with `RUN_COLUMNS`. */
export interface ScheduleRunRow {
  id: number;
  schedule_id: number;
  scheduled_at: Date;
  trigger: RunTrigger;
  job_id: number | null;
  dag_run_id: number | null;
  status: RunStatus;
  attempt: number;
  gate_passed_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  expected_exceeded_at: Date | null;
  handled_at: Date | null;
  details: Record<string, unknown>;
  created_at: Date;
}

export function mapRun(r: ScheduleRunRow): ScheduleRun {
  return {
    id: r.id,
    scheduleId: r.schedule_id,
    scheduledAt: r.scheduled_at,
    trigger: r.trigger,
    jobId: opt(r.job_id),
    dagRunId: opt(r.dag_run_id),
    status: r.status,
    attempt: r.attempt,
    gatePassedAt: opt(r.gate_passed_at),
    startedAt: opt(r.started_at),
    completedAt: opt(r.completed_at),
    expectedExceededAt: opt(r.expected_exceeded_at),
    handledAt: opt(r.handled_at),
    details: r.details,
    createdAt: r.created_at,
  };
}

export interface Violation {
  id: number;
  runId?: number;
  scheduleId: number;
  /** Name of the schedule (joined). */
  schedule?: string;
  constraintId?: number;
  type: ViolationType;
  attempt: number;
  occurredAt: Date;
  actionTaken: string;
  details: Record<string, unknown>;
  handledAt?: Date;
}

export const VIOLATION_COLUMNS = `v.id, v.run_id, v.schedule_id, v.constraint_id, v.violation_type, v.attempt, v.occurred_at,
  v.action_taken, v.details, v.handled_at`;

/** A `constraint_violations` row as selected with `VIOLATION_COLUMNS` (plus the joined schedule name). */
export interface ViolationRow {
  id: number;
  run_id: number | null;
  schedule_id: number;
  schedule_name?: string | null;
  constraint_id: number | null;
  violation_type: ViolationType;
  attempt: number;
  occurred_at: Date;
  action_taken: string;
  details: Record<string, unknown>;
  handled_at: Date | null;
}

export function mapViolation(r: ViolationRow): Violation {
  return {
    id: r.id,
    runId: opt(r.run_id),
    scheduleId: r.schedule_id,
    schedule: opt(r.schedule_name),
    constraintId: opt(r.constraint_id),
    type: r.violation_type,
    attempt: r.attempt,
    occurredAt: r.occurred_at,
    actionTaken: r.action_taken,
    details: r.details,
    handledAt: opt(r.handled_at),
  };
}

export { mapStats, type SchedulerStatsRow, type StatsRow } from './stats-rows.js';
