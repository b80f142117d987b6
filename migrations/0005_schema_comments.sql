-- jobline:additive
-- Schema documentation and orchestrator statistics (issue 18). Applied with search_path set to
-- the target schema. Never edit once landed.
--
-- Every table and column gets a COMMENT: `jobline schema docs` renders them into docs/schema.md,
-- and test/schema-docs.test.ts fails when a column has none. Later migrations comment their own
-- tables and columns in the same file. The first line marks this migration additive: an older
-- Jobline keeps running against a schema that has it (docs/migrations.md).

-- The migration ledger is created by the runner (packages/core/src/db/migrate.ts), not by a file.
comment on table migrations is 'Applied migration files: one row per file, written in the transaction that ran it. Checksums stop an edited file from passing unnoticed.';
comment on column migrations.version is 'The file''s number (0001_init.sql → 1).';
comment on column migrations.name is 'The file name without .sql.';
comment on column migrations.checksum is 'SHA-256 of the file''s text when it was applied; a different file on disk stops migrate().';
comment on column migrations.applied_at is 'When the file was applied.';
comment on column migrations.additive is 'The file was marked `-- jobline:additive` (adds, never changes or drops): a Jobline that does not know it may still run against this schema.';

-- 0001_init
comment on table queues is 'Per-queue settings. A queue needs no row to be used: a missing row means the defaults.';
comment on column queues.name is 'Queue name, as jobs.queue.';
comment on column queues.paused is 'Claims skip a paused queue; enqueueing still works.';
comment on column queues.concurrency_limit is 'Most running jobs of this queue across all workers; null = no limit.';
comment on column queues.max_attempts is 'Default max_attempts of jobs enqueued without one; null = the built-in default (5).';
comment on column queues.timeout_ms is 'Default attempt timeout of jobs enqueued without one; null = the built-in default (300000).';
comment on column queues.backoff_base_ms is 'Retry backoff base for this queue''s jobs; null = the worker''s setting.';
comment on column queues.backoff_max_ms is 'Longest retry backoff for this queue''s jobs; null = the worker''s setting.';
comment on column queues.emit_events is 'Event types the outbox records for this queue; null = all of them.';
comment on column queues.created_at is 'When the row was created.';
comment on column queues.updated_at is 'When a setting last changed.';

comment on table job_definitions is 'The registry of what can run: handler jobs (code in the worker), process jobs (a command) and container jobs (an image). Versions are immutable.';
comment on column job_definitions.name is 'Definition name; jobs enqueued by definition take it as their name by default.';
comment on column job_definitions.version is 'Version, from 1; a changed definition is a new version.';
comment on column job_definitions.executor is 'How the job runs: handler, process or container.';
comment on column job_definitions.image is 'Container image (container executor).';
comment on column job_definitions.command is 'Command to run (process and container executors).';
comment on column job_definitions.args is 'Arguments of the command.';
comment on column job_definitions.env is 'Environment variables given to the process or container (plain values).';
comment on column job_definitions.secret_env is 'Names of environment variables taken from the worker''s own environment (secrets are never stored).';
comment on column job_definitions.resources is 'Resource limits (memory, CPU, …) for the executor.';
comment on column job_definitions.input_schema is 'JSON Schema the input of every job by this definition must satisfy; null = any input.';
comment on column job_definitions.defaults is 'Job defaults (queue, priority, max attempts, timeout, …) applied when enqueueing by definition.';
comment on column job_definitions.created_at is 'When this version was registered.';

comment on table dag_runs is 'One row per submitted DAG run; its state follows from its nodes.';
comment on column dag_runs.id is 'Run id.';
comment on column dag_runs.name is 'The DAG''s name from its spec.';
comment on column dag_runs.state is 'running, then succeeded, failed or cancelled.';
comment on column dag_runs.failure_policy is 'fail_fast cancels what has not started when a node fails; continue skips only the failed node''s descendants.';
comment on column dag_runs.idempotency_key is 'A second submission with this key returns the existing run.';
comment on column dag_runs.node_count is 'Number of nodes in the run.';
comment on column dag_runs.nodes_done is 'Nodes that reached a final state; the run finishes when it equals node_count.';
comment on column dag_runs.created_at is 'When the run was submitted.';
comment on column dag_runs.finished_at is 'When the run reached a final state; retention removes finished runs after the retention period.';

comment on table jobs is 'Live work: one row per job, updated in place as it moves through its states. Finished rows stay until retention removes them.';
comment on column jobs.id is 'Job id.';
comment on column jobs.queue is 'Queue the job is claimed from.';
comment on column jobs.name is 'Job name: selects the handler (or the definition''s executor).';
comment on column jobs.state is 'scheduled, available, running, retryable, completed, failed, cancelled, or waiting (a DAG node whose parents are not done).';
comment on column jobs.priority is 'Lower runs first.';
comment on column jobs.run_at is 'Earliest time the job may be claimed (scheduled and retry times).';
comment on column jobs.attempt is 'Attempts started so far; completions and heartbeats are fenced by it.';
comment on column jobs.max_attempts is 'Attempts allowed before the job fails for good.';
comment on column jobs.timeout_ms is 'How long one attempt may run before its signal is aborted.';
comment on column jobs.input is 'The job''s input (JSON).';
comment on column jobs.output is 'The last successful attempt''s output (JSON).';
comment on column jobs.error is 'The last failed attempt''s error (JSON: name, message, code, …).';
comment on column jobs.progress is 'Last progress the handler reported (ctx.progress), 0–1 or a count.';
comment on column jobs.idempotency_key is 'Unique per queue: enqueueing with an existing key returns that job.';
comment on column jobs.definition is 'name@version of the definition the job was enqueued by, if any.';
comment on column jobs.dag_run_id is 'The DAG run this job is a node of.';
comment on column jobs.dag_node_key is 'The node''s key within its DAG run.';
comment on column jobs.worker_id is 'Worker running (or that last ran) the job.';
comment on column jobs.traceparent is 'W3C trace context of the enqueuer, continued by the worker.';
comment on column jobs.created_at is 'When the job was enqueued.';
comment on column jobs.claimed_at is 'When the current attempt was claimed.';
comment on column jobs.started_at is 'When the current attempt''s handler started.';
comment on column jobs.heartbeat_at is 'Last heartbeat of the current attempt (ctx.heartbeat).';
comment on column jobs.completed_at is 'When the job reached a final state.';
comment on column jobs.updated_at is 'Last change to the row.';

comment on table job_executions is 'The execution history: one row per attempt. The primary key makes one outcome per attempt a database fact.';
comment on column job_executions.job_id is 'The job (no foreign key: history outlives the job until retention).';
comment on column job_executions.attempt is 'Attempt number, as jobs.attempt when it ran.';
comment on column job_executions.worker_id is 'Worker that ran the attempt.';
comment on column job_executions.state is 'completed, failed, timed_out, lost (worker died, rescued), released (worker shut down) or cancelled.';
comment on column job_executions.started_at is 'When the attempt started.';
comment on column job_executions.finished_at is 'When the attempt ended.';
comment on column job_executions.duration_ms is 'Handler run time of the attempt.';
comment on column job_executions.output is 'Output of a completed attempt.';
comment on column job_executions.error is 'Error of a failed, timed-out, lost or released attempt.';

comment on table workers is 'Worker processes: each touches its own row every heartbeat interval; the rescuer treats stale rows as dead.';
comment on column workers.id is 'Worker id (hostname, pid and a random suffix).';
comment on column workers.hostname is 'Host the worker runs on.';
comment on column workers.pid is 'Process id of the worker.';
comment on column workers.queues is 'Queues the worker claims from.';
comment on column workers.concurrency is 'Jobs the worker runs at once.';
comment on column workers.started_at is 'When the worker started.';
comment on column workers.heartbeat_at is 'Last heartbeat; older than the stale threshold means dead.';
comment on column workers.stopped_at is 'When the worker stopped cleanly; null while it runs (or if it died).';
comment on column workers.version is 'Jobline version of the worker.';

comment on table dag_nodes is 'The nodes of DAG runs with their dependency counts; a node''s job is created with the run.';
comment on column dag_nodes.dag_run_id is 'The run.';
comment on column dag_nodes.key is 'Node key, unique within the run.';
comment on column dag_nodes.job_id is 'The node''s job.';
comment on column dag_nodes.state is 'waiting, available, running, succeeded, failed, cancelled or skipped.';
comment on column dag_nodes.depends_on is 'Keys of the parents.';
comment on column dag_nodes.children is 'Keys of the children (decremented when this node succeeds).';
comment on column dag_nodes.remaining_deps is 'Parents not yet succeeded; 0 makes the node available.';

comment on table events is 'The transactional outbox: written with the state change, deleted by the relay only after JetStream acknowledged the publish.';
comment on column events.id is 'Event id, also the Nats-Msg-Id (a retried publish is deduplicated).';
comment on column events.type is 'CloudEvents type, e.g. dev.jobline.job.completed.';
comment on column events.subject is 'NATS subject, e.g. jobline.job.<queue>.<event>.<jobId>.';
comment on column events.job_id is 'The job the event is about, if any.';
comment on column events.dag_run_id is 'The DAG run the event is about, if any.';
comment on column events.data is 'The CloudEvents data payload.';
comment on column events.created_at is 'When the change happened (the event''s time).';

comment on table leases is 'Leader election: one row per leader role (maintenance, relay, scheduler), held until expires_at.';
comment on column leases.name is 'Role name.';
comment on column leases.holder is 'Id of the process holding the lease.';
comment on column leases.expires_at is 'The lease is free after this time unless renewed.';

-- 0002_schedules
comment on table constraints is 'Run constraints, shared by any number of schedules.';
comment on column constraints.id is 'Constraint id.';
comment on column constraints.name is 'Unique name.';
comment on column constraints.max_concurrent_runs is 'Most runs of a schedule at once; null = no limit.';
comment on column constraints.concurrency_policy is 'What a due run beyond max_concurrent_runs does: skip it, or delay it until a slot frees.';
comment on column constraints.catch_up is 'After downtime, start the runs missed within catch_up_window.';
comment on column constraints.catch_up_window is 'How far back missed runs are caught up.';
comment on column constraints.max_expected_run_time is 'A run longer than this records a violation (and keeps running).';
comment on column constraints.max_allowed_run_time is 'A run longer than this is cancelled and recorded as timed out.';
comment on column constraints.pre_run_hook is 'Webhook called before each run (url, secret, headers, timeout, retries, required).';
comment on column constraints.post_run_hook is 'Webhook called after each run.';
comment on column constraints.require_previous_success is 'true (this schedule''s previous run), {"schedule": name} or {"job": name, "queue": q} must have succeeded; null = off.';
comment on column constraints.created_at is 'When the constraint was created.';
comment on column constraints.updated_at is 'When it last changed.';

comment on table schedules is 'Cron schedules: each occurrence becomes a schedule_runs row and a job (or DAG run).';
comment on column schedules.id is 'Schedule id.';
comment on column schedules.name is 'Unique name.';
comment on column schedules.description is 'Free text.';
comment on column schedules.cron_expression is '5 fields, 6 with seconds first, or an alias such as @hourly (croner).';
comment on column schedules.timezone is 'IANA time zone the expression is read in.';
comment on column schedules.job_template is 'The job each run enqueues (exactly one of job_template, dag_template).';
comment on column schedules.dag_template is 'The DAG each run submits.';
comment on column schedules.paused is 'A paused schedule materialises no runs.';
comment on column schedules.constraint_id is 'The run constraint that applies, if any.';
comment on column schedules.materialised_until is 'Every occurrence up to here has a run row (or was passed over); the scheduler continues from here.';
comment on column schedules.skip_next is 'Pending skip_next_instance actions that found no materialised run to skip yet.';
comment on column schedules.created_at is 'When the schedule was created.';
comment on column schedules.updated_at is 'When it last changed.';

comment on table actions is 'Actions that schedules bind to triggers.';
comment on column actions.id is 'Action id.';
comment on column actions.name is 'Unique name.';
comment on column actions.action_type is 'retry, kick_off_job, webhook, kill_all_instances, kill_latest_instance or skip_next_instance.';
comment on column actions.config is 'The type''s settings (validated by its zod schema).';
comment on column actions.created_at is 'When the action was created.';
comment on column actions.updated_at is 'When it last changed.';

comment on table schedule_actions is 'Which action a schedule fires on which trigger.';
comment on column schedule_actions.id is 'Binding id.';
comment on column schedule_actions.schedule_id is 'The schedule.';
comment on column schedule_actions.action_id is 'The action (an action in use cannot be deleted).';
comment on column schedule_actions.trigger is 'on_failure, on_violation, on_success or on_timeout.';
comment on column schedule_actions.constraint_id is 'on_violation only: fire for violations of this constraint alone.';

comment on table schedule_runs is 'One row per (schedule, occurrence): the unique key makes "exactly one run" hold across leader changes.';
comment on column schedule_runs.id is 'Run id.';
comment on column schedule_runs.schedule_id is 'The schedule.';
comment on column schedule_runs.scheduled_at is 'The occurrence''s time.';
comment on column schedule_runs.trigger is 'cron (on time), catch_up (started late after downtime) or manual (trigger()).';
comment on column schedule_runs.job_id is 'The run''s job (no foreign key: retention deletes finished jobs, the run keeps its record).';
comment on column schedule_runs.dag_run_id is 'The run''s DAG run, for DAG schedules.';
comment on column schedule_runs.status is 'scheduled, delayed, running, succeeded, failed, cancelled, timed_out, skipped or missed.';
comment on column schedule_runs.attempt is '1, then +1 for each retry action (a new job for the same occurrence).';
comment on column schedule_runs.gate_passed_at is 'When the start constraints were checked and passed; null = the scheduler still decides.';
comment on column schedule_runs.started_at is 'When the run''s job started.';
comment on column schedule_runs.completed_at is 'When the run finished.';
comment on column schedule_runs.expected_exceeded_at is 'When the run passed max_expected_run_time.';
comment on column schedule_runs.handled_at is 'When the finish actions and the post-run hook were done for this attempt.';
comment on column schedule_runs.details is 'What happened: skip and delay reasons, hook results, ….';
comment on column schedule_runs.created_at is 'When the row was materialised.';

comment on table constraint_violations is 'Constraint violations of schedule runs; unique per (run, type, attempt) so a new leader never records one twice.';
comment on column constraint_violations.id is 'Violation id.';
comment on column constraint_violations.run_id is 'The run.';
comment on column constraint_violations.schedule_id is 'The schedule.';
comment on column constraint_violations.constraint_id is 'The constraint that was violated.';
comment on column constraint_violations.violation_type is 'max_concurrent_runs, max_expected_run_time, max_allowed_run_time, require_previous_success or pre_run_hook.';
comment on column constraint_violations.attempt is 'The run''s attempt.';
comment on column constraint_violations.occurred_at is 'When it was detected.';
comment on column constraint_violations.action_taken is 'What the constraint did (skipped, delayed, cancelled, reported), then each action''s outcome.';
comment on column constraint_violations.details is 'Measured values (elapsed time, limits, running count, …).';
comment on column constraint_violations.handled_at is 'When the on_violation / on_timeout actions were run.';

comment on table scheduler_stats is 'One row per scheduler leader per period (and when leadership ends): counters of the period.';
comment on column scheduler_stats.id is 'Row id.';
comment on column scheduler_stats.holder is 'Scheduler id that wrote the row.';
comment on column scheduler_stats.period_start is 'Start of the period.';
comment on column scheduler_stats.period_end is 'End of the period.';
comment on column scheduler_stats.iterations is 'Scheduler passes in the period.';
comment on column scheduler_stats.index_rebuilds is 'Times the in-memory schedule index was rebuilt.';
comment on column scheduler_stats.runs_materialised is 'Run rows created.';
comment on column scheduler_stats.runs_started is 'Runs whose job started.';
comment on column scheduler_stats.late_runs is 'Runs that started more than the late threshold after their time.';
comment on column scheduler_stats.missed_runs is 'Occurrences missed (downtime without catch-up).';
comment on column scheduler_stats.skipped_runs is 'Runs skipped by a constraint or a skip action.';
comment on column scheduler_stats.delayed_runs is 'Runs delayed by max_concurrent_runs with policy delay.';
comment on column scheduler_stats.cancelled_runs is 'Runs cancelled (time limits, kill actions).';
comment on column scheduler_stats.violations is 'Violations recorded.';
comment on column scheduler_stats.actions_fired is 'Actions run.';
comment on column scheduler_stats.webhook_failures is 'Webhook calls (hooks and actions) that failed.';
comment on column scheduler_stats.inbox is 'Due runs not started yet at the end of the period.';
comment on column scheduler_stats.avg_lag_ms is 'Mean start lag (started_at − scheduled_at) of runs started in the period.';
comment on column scheduler_stats.max_lag_ms is 'Largest start lag in the period.';
comment on column scheduler_stats.max_tick_ms is 'Longest scheduler pass in the period.';

-- Orchestrator statistics (the seed's orchestrator_stats): one row per scheduler pass, written
-- by the leader after the pass. One small insert per pass (default every second) on the leader
-- only; rows older than the scheduler's passStatsRetentionMs (default 1 day) are deleted with
-- the period flush, once a minute.
create table orchestrator_stats (
  id                   bigint generated always as identity primary key,
  holder               text not null,
  started_at           timestamptz not null,
  runtime_ms           double precision not null,
  schedules            int not null default 0,
  constraints_checked  int not null default 0,
  actions_taken        int not null default 0,
  runs_materialised    int not null default 0,
  violations           int not null default 0,
  failed_steps         text[] not null default '{}'
);
create index orchestrator_stats_started_idx on orchestrator_stats (started_at);
comment on table orchestrator_stats is 'One row per scheduler pass: how long it took and what it did (jl.orchestratorStats(), `jobline schedule stats --passes`).';
comment on column orchestrator_stats.id is 'Row id.';
comment on column orchestrator_stats.holder is 'Scheduler id that ran the pass.';
comment on column orchestrator_stats.started_at is 'When the pass started (the scheduler''s clock).';
comment on column orchestrator_stats.runtime_ms is 'Wall time of the pass.';
comment on column orchestrator_stats.schedules is 'Schedules in the index during the pass.';
comment on column orchestrator_stats.constraints_checked is 'Constraint evaluations: start checks of gated runs and run-time limit checks of running runs.';
comment on column orchestrator_stats.actions_taken is 'Actions fired in the pass.';
comment on column orchestrator_stats.runs_materialised is 'Run rows created in the pass.';
comment on column orchestrator_stats.violations is 'Violations recorded in the pass.';
comment on column orchestrator_stats.failed_steps is 'Steps of the pass that failed (retried next pass).';

-- 0003_dag_retention adds only an index (dag_runs_finished_idx).
