-- Executors (issue 16): container job settings on definitions, and what each worker can run.
-- Applied with search_path set to the target schema. See packages/core/src/executors/README.md.
-- Never edit once landed.

-- Container jobs: how input reaches the container and output comes back, and the pull policy.
-- {input: 'stdin'|'file', inputPath?, outputPath?, pullPolicy: 'never'|'if-missing'}; validated by
-- the definition schema (packages/core/src/definitions/schema.ts) before it is written.
alter table job_definitions add column container jsonb;
comment on column job_definitions.container is
  'Container executor settings: input (stdin|file), inputPath, outputPath (a declared output file instead of stdout), pullPolicy (never|if-missing). Null for handler and process definitions.';

-- A worker's capabilities: the executor kinds it runs and the most resources one job may ask of it.
alter table workers add column executors text[] not null default '{handler}';
alter table workers add column resources jsonb not null default '{}';
comment on column workers.executors is
  'Executor kinds this worker runs (handler, process, container); it claims only jobs whose definition uses one of them.';
comment on column workers.resources is
  'Most resources one job may ask of this worker, e.g. {"cpu": 2, "memoryMb": 4096}; {} = no limit. Jobs whose definition asks for more are left to other workers.';
