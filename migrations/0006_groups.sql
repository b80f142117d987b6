-- Groups (issue 15): a job may carry a group key, e.g. a tenant. The key is stored on the job;
-- everything known about a group (its tier, its fair-share weight, why it is held) is stored once
-- per group in job_groups, never copied onto its jobs.
alter table jobs add column group_key text check (group_key is null or length(group_key) between 1 and 255);
comment on column jobs.group_key is 'The job''s group (e.g. a tenant id), or null. Per-group limits, fair claiming and quotas work on this key; the group''s own settings live in job_groups.';

create table job_groups (
  key          text primary key check (length(key) between 1 and 255),
  tier         text check (tier is null or length(tier) between 1 and 100),
  weight       int not null default 1 check (weight between 1 and 1000),
  held_reason  text check (held_reason is null or held_reason in ('quota')),
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
comment on table job_groups is 'One row per group that has settings: its tier (which groupConcurrency tier applies), its weight in fair claiming, and whether its jobs are held. A group without a row has the defaults.';
comment on column job_groups.key is 'The group key, as given in jobs.group_key.';
comment on column job_groups.tier is 'The tier name looked up in a queue''s groupConcurrency.tiers; null means the queue''s default limit.';
comment on column job_groups.weight is 'Relative share in weighted fair claiming (1 = an equal share).';
comment on column job_groups.held_reason is 'Set while the group''s jobs must not start (quota: its wallet is exhausted); null when they may run. Held jobs stay available and are not failed.';
comment on column job_groups.created_at is 'When the row was written first.';
comment on column job_groups.updated_at is 'When any setting of the row last changed.';
