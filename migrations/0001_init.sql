-- Jobline schema, version 1. Applied by packages/core/src/db/migrate.ts with search_path set to
-- the target schema (JOBLINE_SCHEMA, default `jobline`), so names here are unqualified.
-- Never edit this file once it has landed: add 0002_….sql instead (checksums are verified).

-- Per-queue configuration. A queue needs no row to be used: a missing row means defaults.
create table queues (
  name               text primary key,
  paused             boolean not null default false,
  concurrency_limit  int check (concurrency_limit is null or concurrency_limit > 0),
  max_attempts       int check (max_attempts is null or max_attempts > 0),
  timeout_ms         int check (timeout_ms is null or timeout_ms > 0),
  backoff_base_ms    int check (backoff_base_ms is null or backoff_base_ms >= 0),
  backoff_max_ms     int check (backoff_max_ms is null or backoff_max_ms >= 0),
  -- Which event types the outbox records for this queue; null = all of them.
  emit_events        text[],
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now()
);

-- The registry of what can run: handler jobs (code in the worker) and process jobs (a command).
create table job_definitions (
  name          text not null,
  version       int not null default 1,
  executor      text not null check (executor in ('handler', 'process', 'container')),
  image         text,
  command       text,
  args          text[] not null default '{}',
  env           jsonb not null default '{}',
  secret_env    text[] not null default '{}',
  resources     jsonb not null default '{}',
  input_schema  jsonb,
  defaults      jsonb not null default '{}',
  created_at    timestamptz not null default now(),
  primary key (name, version)
);

create table dag_runs (
  id               bigint generated always as identity primary key,
  name             text not null,
  state            text not null default 'running'
                     check (state in ('running', 'succeeded', 'failed', 'cancelled')),
  failure_policy   text not null default 'fail_fast' check (failure_policy in ('fail_fast', 'continue')),
  idempotency_key  text unique,
  node_count       int not null,
  nodes_done       int not null default 0,
  created_at       timestamptz not null default now(),
  finished_at      timestamptz
);

-- Live work. Finished rows stay until retention removes them; every claim-path index is partial
-- so that they never slow claiming (see packages/core/src/queue/README.md).
create table jobs (
  id               bigint generated always as identity primary key,
  queue            text not null,
  name             text not null,
  state            text not null check (state in ('scheduled', 'available', 'running', 'retryable',
                                                  'completed', 'failed', 'cancelled', 'waiting')),
  priority         int not null default 0,
  run_at           timestamptz not null default now(),
  attempt          int not null default 0,
  max_attempts     int not null default 5 check (max_attempts > 0),
  timeout_ms       int not null default 300000 check (timeout_ms > 0),
  input            jsonb,
  output           jsonb,
  error            jsonb,
  progress         real,
  idempotency_key  text,
  definition       text,
  dag_run_id       bigint references dag_runs (id) on delete cascade,
  dag_node_key     text,
  worker_id        text,
  traceparent      text,
  created_at       timestamptz not null default now(),
  claimed_at       timestamptz,
  started_at       timestamptz,
  heartbeat_at     timestamptz,
  completed_at     timestamptz,
  updated_at       timestamptz not null default now()
) with (fillfactor = 85,
        autovacuum_vacuum_scale_factor = 0.01,
        autovacuum_vacuum_insert_scale_factor = 0.05,
        autovacuum_analyze_scale_factor = 0.02,
        autovacuum_vacuum_cost_delay = 1);

-- The claim index: only claimable rows, in claim order.
create index jobs_claim_idx on jobs (queue, priority, run_at, id) where state = 'available';
-- Due scheduled and retryable jobs are promoted to `available` by the leader.
create index jobs_due_idx on jobs (run_at) where state in ('scheduled', 'retryable');
-- The rescuer looks up running jobs by worker.
create index jobs_running_idx on jobs (worker_id) where state = 'running';
create unique index jobs_idempotency_idx on jobs (queue, idempotency_key) where idempotency_key is not null;
create index jobs_dag_idx on jobs (dag_run_id) where dag_run_id is not null;
-- listJobs keyset pagination (id desc) filtered by queue/state, and retention by completed_at.
create index jobs_queue_state_id_idx on jobs (queue, state, id);
create index jobs_finished_idx on jobs (completed_at) where state in ('completed', 'failed', 'cancelled');

-- One row per attempt; the primary key makes "one outcome per attempt" a database fact.
create table job_executions (
  job_id       bigint not null,
  attempt      int not null,
  worker_id    text,
  -- completed | failed (the job retries or fails, see jobs.state) | timed_out | lost (worker died,
  -- rescued) | released (worker shut down) | cancelled
  state        text not null check (state in ('completed', 'failed', 'timed_out', 'lost', 'released', 'cancelled')),
  started_at   timestamptz,
  finished_at  timestamptz not null default now(),
  duration_ms  double precision,
  output       jsonb,
  error        jsonb,
  primary key (job_id, attempt)
) with (autovacuum_vacuum_insert_scale_factor = 0.05);

create table workers (
  id            text primary key,
  hostname      text not null,
  pid           int not null,
  queues        text[] not null,
  concurrency   int not null,
  started_at    timestamptz not null default now(),
  heartbeat_at  timestamptz not null default now(),
  stopped_at    timestamptz,
  version       text not null
);

create table dag_nodes (
  dag_run_id      bigint not null references dag_runs (id) on delete cascade,
  key             text not null,
  job_id          bigint,
  state           text not null check (state in ('waiting', 'available', 'running', 'succeeded',
                                                  'failed', 'cancelled', 'skipped')),
  depends_on      text[] not null default '{}',
  children        text[] not null default '{}',
  remaining_deps  int not null,
  primary key (dag_run_id, key)
);
create index dag_nodes_job_idx on dag_nodes (job_id);

-- The transactional outbox: rows are written in the same transaction as the state change and
-- deleted by the relay only after JetStream acknowledged them.
create table events (
  id          bigint generated always as identity primary key,
  type        text not null,
  subject     text not null,
  job_id      bigint,
  dag_run_id  bigint,
  data        jsonb not null,
  created_at  timestamptz not null default now()
) with (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.05);

-- Leader election for maintenance (rescuer, promoter, retention), the relay and the scheduler.
create table leases (
  name        text primary key,
  holder      text not null,
  expires_at  timestamptz not null
);
