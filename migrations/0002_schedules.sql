-- Cron schedules with constraints and actions (issue 8). Applied with search_path set to the
-- target schema. See packages/core/src/schedule/README.md. Never edit once landed.
--
-- Every jsonb column here is validated by a zod schema in packages/core/src/schedule/schema.ts
-- before it is written; the CHECKs below are the database's last line, not the error messages.

-- Run constraints, shared by any number of schedules (schedules.constraint_id).
create table constraints (
  id                        bigint generated always as identity primary key,
  name                      text not null unique,
  max_concurrent_runs       int check (max_concurrent_runs is null or max_concurrent_runs > 0),
  -- What a due run beyond max_concurrent_runs does: 'skip' it, or 'delay' it until a slot frees.
  concurrency_policy        text not null default 'skip' check (concurrency_policy in ('skip', 'delay')),
  catch_up                  boolean not null default false,
  catch_up_window           interval check (catch_up_window is null or catch_up_window > interval '0'),
  max_expected_run_time     interval check (max_expected_run_time is null or max_expected_run_time > interval '0'),
  max_allowed_run_time      interval check (max_allowed_run_time is null or max_allowed_run_time > interval '0'),
  -- Webhooks called before / after each run: {url, secret?, secretEnv?, headers?, timeoutMs, retries, …}.
  pre_run_hook              jsonb,
  post_run_hook             jsonb,
  -- true (this schedule's previous run), {"schedule": name} or {"job": name, "queue": q}; null = off.
  require_previous_success  jsonb,
  created_at                timestamptz not null default now(),
  updated_at                timestamptz not null default now()
);

create table schedules (
  id                  bigint generated always as identity primary key,
  name                text not null unique,
  description         text,
  -- 5 fields, or 6 with seconds first, or an alias such as @hourly (evaluated by croner).
  cron_expression     text not null,
  -- IANA time zone the expression is read in.
  timezone            text not null default 'UTC',
  job_template        jsonb,
  dag_template        jsonb,
  paused              boolean not null default false,
  constraint_id       bigint references constraints (id),
  -- Every occurrence up to this instant has a schedule_runs row (or was deliberately passed
  -- over: created, resumed or changed later); the scheduler continues from here.
  materialised_until  timestamptz not null default now(),
  -- Pending skip_next_instance actions that found no materialised run to skip yet.
  skip_next           int not null default 0 check (skip_next >= 0),
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  check ((job_template is null) <> (dag_template is null))
);
create index schedules_constraint_idx on schedules (constraint_id) where constraint_id is not null;

create table actions (
  id           bigint generated always as identity primary key,
  name         text not null unique,
  action_type  text not null check (action_type in ('retry', 'kick_off_job', 'webhook', 'kill_all_instances',
                                                    'kill_latest_instance', 'skip_next_instance')),
  config       jsonb not null default '{}',
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);

create table schedule_actions (
  id             bigint generated always as identity primary key,
  schedule_id    bigint not null references schedules (id) on delete cascade,
  -- An action in use cannot be deleted: detach it first.
  action_id      bigint not null references actions (id),
  trigger        text not null check (trigger in ('on_failure', 'on_violation', 'on_success', 'on_timeout')),
  -- on_violation only: fire for violations of this constraint alone.
  constraint_id  bigint references constraints (id) on delete cascade,
  check (constraint_id is null or trigger = 'on_violation'),
  unique nulls not distinct (schedule_id, action_id, trigger, constraint_id)
);
create index schedule_actions_action_idx on schedule_actions (action_id);

-- One row per (schedule, occurrence): the unique key is what makes "exactly one run" hold
-- across leader changes. job_id / dag_run_id have no foreign key: retention deletes finished
-- jobs, and the run keeps its record.
create table schedule_runs (
  id                    bigint generated always as identity primary key,
  schedule_id           bigint not null references schedules (id) on delete cascade,
  scheduled_at          timestamptz not null,
  -- cron (on time) | catch_up (started late after downtime) | manual (trigger())
  trigger               text not null default 'cron' check (trigger in ('cron', 'catch_up', 'manual')),
  job_id                bigint,
  dag_run_id            bigint,
  status                text not null check (status in ('scheduled', 'delayed', 'running', 'succeeded', 'failed',
                                                        'cancelled', 'timed_out', 'skipped', 'missed')),
  -- 1, then +1 for each retry action (a new job for the same occurrence).
  attempt               int not null default 1,
  -- Start constraints were checked (or the schedule has none); null = the scheduler still decides.
  gate_passed_at        timestamptz,
  started_at            timestamptz,
  completed_at          timestamptz,
  expected_exceeded_at  timestamptz,
  -- Finish actions (on_success / on_failure) and the post-run hook were done for this attempt.
  handled_at            timestamptz,
  details               jsonb not null default '{}',
  created_at            timestamptz not null default now(),
  unique (schedule_id, scheduled_at)
);
-- The scheduler's per-tick scans: open runs that are due, runs awaiting their start check,
-- finished runs whose actions have not run.
create index schedule_runs_open_idx on schedule_runs (scheduled_at)
  where status in ('scheduled', 'delayed', 'running');
create index schedule_runs_gate_idx on schedule_runs (scheduled_at)
  where gate_passed_at is null and status in ('scheduled', 'delayed');
create index schedule_runs_unhandled_idx on schedule_runs (id)
  where handled_at is null and status in ('succeeded', 'failed', 'cancelled', 'timed_out');
create index schedule_runs_job_idx on schedule_runs (job_id) where job_id is not null;

create table constraint_violations (
  id              bigint generated always as identity primary key,
  run_id          bigint references schedule_runs (id) on delete cascade,
  schedule_id     bigint not null references schedules (id) on delete cascade,
  constraint_id   bigint references constraints (id) on delete set null,
  violation_type  text not null check (violation_type in ('max_concurrent_runs', 'max_expected_run_time',
                                                          'max_allowed_run_time', 'require_previous_success',
                                                          'pre_run_hook')),
  attempt         int not null default 1,
  occurred_at     timestamptz not null default now(),
  -- What the constraint did (skipped, delayed, cancelled, reported), then each action's outcome.
  action_taken    text not null,
  details         jsonb not null default '{}',
  -- on_violation / on_timeout actions were run.
  handled_at      timestamptz,
  -- A leader re-checking a run after a takeover never records the same violation twice.
  unique (run_id, violation_type, attempt)
);
create index constraint_violations_schedule_idx on constraint_violations (schedule_id, id);
create index constraint_violations_unhandled_idx on constraint_violations (id) where handled_at is null;

-- One row per scheduler leader per period (and when leadership ends).
create table scheduler_stats (
  id                 bigint generated always as identity primary key,
  holder             text not null,
  period_start       timestamptz not null,
  period_end         timestamptz not null,
  iterations         int not null default 0,
  index_rebuilds     int not null default 0,
  runs_materialised  int not null default 0,
  runs_started       int not null default 0,
  -- Runs that started more than the late threshold after their scheduled time.
  late_runs          int not null default 0,
  missed_runs        int not null default 0,
  skipped_runs       int not null default 0,
  delayed_runs       int not null default 0,
  cancelled_runs     int not null default 0,
  violations         int not null default 0,
  actions_fired      int not null default 0,
  webhook_failures   int not null default 0,
  -- Due runs not started yet at the end of the period (the scheduler's inbox).
  inbox              int not null default 0,
  -- Start lag (started_at − scheduled_at) of the runs that started in the period.
  avg_lag_ms         double precision,
  max_lag_ms         double precision,
  max_tick_ms        double precision
);
create index scheduler_stats_period_idx on scheduler_stats (period_start);
