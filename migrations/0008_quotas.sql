-- Enqueue policies and quotas (issue 15).
--
-- Policies: singletonKey (at most one unfinished job per key and queue), throttle (at most one
-- job per key and queue per window) and debounce (the last enqueue in a window wins).
-- Quotas: a tenant (a job group) may have a wallet; every finished attempt of its jobs is charged
-- to it by one ledger row, written by a trigger in the transaction that records the attempt.

alter table jobs add column singleton_key text check (singleton_key is null or length(singleton_key) between 1 and 255);
comment on column jobs.singleton_key is 'enqueue({ singletonKey }): while this job is unfinished, no other job of its queue may carry the same key; enqueuing one returns this job.';

-- The finished states are model/JobState's FINISHED_STATES (completed, failed, cancelled);
-- test/enqueue-policies.test.ts checks this predicate against the constant.
create unique index jobs_singleton_key_idx on jobs (queue, singleton_key)
  where singleton_key is not null and state not in ('completed', 'failed', 'cancelled');

create table enqueue_windows (
  queue       text not null,
  kind        text not null check (kind in ('throttle', 'debounce')),
  key         text not null check (length(key) between 1 and 255),
  job_id      bigint,
  ends_at     timestamptz not null,
  updated_at  timestamptz not null default now(),
  primary key (queue, kind, key)
);
comment on table enqueue_windows is 'The open throttle/debounce window per queue and key: which job it belongs to and when it ends. Enqueuers lock the row, so concurrent enqueues with one key are serialised.';
comment on column enqueue_windows.queue is 'The queue the key applies to (keys are per queue, like idempotency keys).';
comment on column enqueue_windows.kind is 'throttle (the first job of a window wins) or debounce (the last one wins).';
comment on column enqueue_windows.key is 'The throttle or debounce key given at enqueue.';
comment on column enqueue_windows.job_id is 'The job the window returns (throttle) or replaces (debounce); no foreign key, retention may delete it.';
comment on column enqueue_windows.ends_at is 'When the window closes: a later enqueue opens a new window and creates a new job.';
comment on column enqueue_windows.updated_at is 'When the window last changed.';

create table wallets (
  key         text primary key references job_groups (key) on delete cascade,
  unit        text not null check (unit in ('attempts', 'run_ms')),
  balance     bigint not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
comment on table wallets is 'A tenant''s budget (the seed model''s wallet; the tenant/customer row is job_groups). Groups without a wallet are not metered. While balance <= 0 the group is held (job_groups.held_reason = quota).';
comment on column wallets.key is 'The group (tenant) key, a job_groups row.';
comment on column wallets.unit is 'What one unit is: attempts (each finished attempt costs 1) or run_ms (each costs its run time in milliseconds, at least 1).';
comment on column wallets.balance is 'Units left. Attempts already running when it reaches 0 are still charged, so it can go below 0.';
comment on column wallets.created_at is 'When the wallet was created.';
comment on column wallets.updated_at is 'When the balance last changed.';

create table wallet_transactions (
  id               bigint generated always as identity primary key,
  wallet_key       text not null references wallets (key) on delete cascade,
  kind             text not null check (kind in ('charge', 'top_up', 'set')),
  amount           bigint not null,
  balance_after    bigint not null,
  job_id           bigint,
  attempt          int,
  execution_state  text,
  note             text check (note is null or length(note) <= 1000),
  created_at       timestamptz not null default now(),
  check ((kind = 'charge') = (job_id is not null and attempt is not null))
);
comment on table wallet_transactions is 'The usage ledger: one charge per finished attempt of a metered group (written with the attempt''s history row), and every top-up or set.';
comment on column wallet_transactions.id is 'Ledger order.';
comment on column wallet_transactions.wallet_key is 'The wallet (group key).';
comment on column wallet_transactions.kind is 'charge (a finished attempt), top_up (units added) or set (balance replaced by setQuota).';
comment on column wallet_transactions.amount is 'Signed change of the balance: negative for charges.';
comment on column wallet_transactions.balance_after is 'The wallet balance right after this entry.';
comment on column wallet_transactions.job_id is 'charge: the job whose attempt was charged (no foreign key: the ledger outlives retention).';
comment on column wallet_transactions.attempt is 'charge: the attempt number; (job_id, attempt) is unique, so an attempt is never charged twice.';
comment on column wallet_transactions.execution_state is 'charge: how the attempt ended (completed, failed, timed_out, lost, cancelled).';
comment on column wallet_transactions.note is 'Free text given with a top-up or set.';
comment on column wallet_transactions.created_at is 'When the entry was written.';
create unique index wallet_transactions_attempt_idx on wallet_transactions (job_id, attempt) where kind = 'charge';
create index wallet_transactions_wallet_idx on wallet_transactions (wallet_key, id);

-- Holds exactly the metered groups among `keys` whose balance is <= 0 and releases the others,
-- writing a group.held / group.released outbox event for each group whose hold changed.
create function quota_sync_holds(keys text[]) returns void
language sql set search_path from current as $$
  with w as (
    select k.key, w.balance, w.unit from unnest(keys) k(key) left join wallets w on w.key = k.key
  ), held as (
    insert into job_groups (key, held_reason)
    select key, 'quota' from w where balance <= 0
    on conflict (key) do update set held_reason = 'quota', updated_at = now()
      where job_groups.held_reason is null
    returning key
  ), released as (
    update job_groups g set held_reason = null, updated_at = now()
      from w where g.key = w.key and g.held_reason = 'quota' and (w.balance is null or w.balance > 0)
    returning g.key
  ), changed as (
    select key, 'held' as event from held union all select key, 'released' from released
  )
  insert into events (type, subject, data)
  select 'dev.jobline.group.' || c.event, 'jobline.group.' || c.event,
         jsonb_strip_nulls(jsonb_build_object('group', c.key, 'reason', 'quota', 'held', c.event = 'held',
                                              'balance', w.balance, 'unit', w.unit))
    from changed c join w on w.key = c.key;
$$;

-- Charges every finished attempt (not `released`: a release gives the attempt back) of a job
-- whose group has a wallet. A statement-level trigger with a transition table: one pass per
-- completion batch, in its transaction, whichever path wrote the history (completion, rescue,
-- cancel). Without any wallet a batch costs one probe of the (empty) wallets table; otherwise one
-- primary-key lookup per attempt to find its job's group (`id = any(array)`: the planner has no
-- statistics for a transition table, and joined it to a sequential scan of jobs).
create function charge_finished_attempts() returns trigger
language plpgsql set search_path from current as $$
declare
  ids bigint[];
  metered text[];
  charged text[];
begin
  if not exists (select 1 from wallets) then
    return null;
  end if;
  select array_agg(job_id) into ids from new_rows where state <> 'released';
  if ids is null then
    return null;
  end if;
  select array_agg(distinct j.group_key order by j.group_key) into metered
    from jobs j join wallets w on w.key = j.group_key
   where j.id = any(ids);
  if metered is null then
    return null;
  end if;
  -- Lock the wallets in key order first: two batches charging the same tenants cannot deadlock.
  perform 1 from wallets w where w.key = any(metered) order by w.key for update of w;
  with c as (
    select j.group_key as key, n.job_id, n.attempt, n.state, w.balance,
           case w.unit when 'attempts' then 1
                else greatest(1, ceil(coalesce(n.duration_ms, 0)))::bigint end as cost
      from jobs j
      join new_rows n on n.job_id = j.id
      join wallets w on w.key = j.group_key
     where j.id = any(ids) and j.group_key = any(metered) and n.state <> 'released'
  ), ins as (
    insert into wallet_transactions (wallet_key, kind, amount, balance_after, job_id, attempt, execution_state)
    select key, 'charge', -cost,
           balance - sum(cost) over (partition by key order by job_id, attempt rows unbounded preceding),
           job_id, attempt, state
      from c
    on conflict (job_id, attempt) where kind = 'charge' do nothing
    returning wallet_key, amount
  ), upd as (
    update wallets w set balance = w.balance + t.total, updated_at = now()
      from (select wallet_key, sum(amount) as total from ins group by wallet_key) t
     where w.key = t.wallet_key
    returning w.key
  )
  select array_agg(key) into charged from upd;
  if charged is not null then
    perform quota_sync_holds(charged);
  end if;
  return null;
end;
$$;

create trigger job_executions_charge after insert on job_executions
  referencing new table as new_rows
  for each statement execute function charge_finished_attempts();
