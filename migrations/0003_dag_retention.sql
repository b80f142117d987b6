-- Retention of finished DAG runs (the leader's retention pass, packages/core/src/queue/maintenance-sql.ts):
-- finds runs finished before the cutoff without scanning the runs still going. Never edit once landed.
create index dag_runs_finished_idx on dag_runs (finished_at) where finished_at is not null;
