-- Group limits (issue 15): per-group concurrency (with tiers), rate limits per queue and per
-- group, and the index the grouped claim walks. See packages/core/src/queue/claim-groups.ts.

alter table queues
  add column group_concurrency     int check (group_concurrency is null or group_concurrency > 0),
  add column group_tiers           jsonb check (group_tiers is null or jsonb_typeof(group_tiers) = 'object'),
  add column rate_limit            int check (rate_limit is null or rate_limit > 0),
  add column rate_period_ms        int check (rate_period_ms is null or rate_period_ms > 0),
  add column group_rate_limit      int check (group_rate_limit is null or group_rate_limit > 0),
  add column group_rate_period_ms  int check (group_rate_period_ms is null or group_rate_period_ms > 0),
  add column grouped_claims        boolean generated always as (
    group_concurrency is not null or group_tiers is not null or rate_limit is not null or group_rate_limit is not null
  ) stored;
comment on column queues.group_concurrency is 'Default limit of running jobs per group across all workers (groupConcurrency, or its default); null = no per-group limit.';
comment on column queues.group_tiers is 'Per-tier limits of running jobs per group ({"pro": 5}): a group whose job_groups.tier is named here gets that limit instead of group_concurrency.';
comment on column queues.rate_limit is 'At most this many jobs of the queue start in any window of rate_period_ms (rateLimit.limit); null = no queue rate limit.';
comment on column queues.rate_period_ms is 'The window of rate_limit in milliseconds (rateLimit.periodMs).';
comment on column queues.group_rate_limit is 'At most this many jobs of one group start in any window of group_rate_period_ms (groupRateLimit.limit); null = none.';
comment on column queues.group_rate_period_ms is 'The window of group_rate_limit in milliseconds (groupRateLimit.periodMs).';
comment on column queues.grouped_claims is 'True when the queue has group or rate limits: its jobs are claimed only by the grouped claim (under a per-queue lock), never by the plain one.';

-- Exact sliding windows: the start times of the claims inside the longest window, one row per
-- queue ('' = the queue as a whole) or per group. Written only by the grouped claim, under the
-- queue's lock, so a count read there is exact.
create table rate_windows (
  queue      text not null,
  group_key  text not null,
  starts     timestamptz[] not null default '{}',
  primary key (queue, group_key)
);
comment on table rate_windows is 'Start times of recent claims per rate-limited queue and group: the grouped claim counts them to keep every window of periodMs at or under its limit, and prunes older ones.';
comment on column rate_windows.queue is 'The queue the starts were claimed from.';
comment on column rate_windows.group_key is 'The group, or the empty string for the queue-wide rate limit.';
comment on column rate_windows.starts is 'Claim times (the claiming transaction''s now()) newer than the window; at most the limit of them.';

-- The grouped claim enumerates the groups that have available work (a loose index scan) and
-- reads each group's head in priority order; jobs without a group are one more range of it
-- (nulls sort last), so a grouped queue's ungrouped jobs are found without walking grouped ones.
-- It holds available rows only (like jobs_claim_idx): running and finished rows never enter it.
create index jobs_group_claim_idx on jobs (queue, group_key, priority, run_at, id)
  where state = 'available';
