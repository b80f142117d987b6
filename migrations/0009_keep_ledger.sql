-- Deleting a quota keeps its ledger (issue 15). The usage ledger is a record of what was charged
-- and credited (billing, disputes), like job_executions is of attempts: removing a tenant's
-- budget must not erase what it used. The wallet row goes; its entries stay, closed by one
-- `deleted` entry (the balance written off to 0), and a later quota for the same group continues
-- the same ledger with a `set` entry.

alter table wallet_transactions drop constraint wallet_transactions_wallet_key_fkey;
alter table wallet_transactions drop constraint wallet_transactions_kind_check;
alter table wallet_transactions add constraint wallet_transactions_kind_check
  check (kind in ('charge', 'top_up', 'set', 'deleted'));

comment on column wallet_transactions.wallet_key is 'The wallet (group key). No foreign key: the ledger outlives a deleted quota.';
comment on column wallet_transactions.kind is 'charge (a finished attempt), top_up (units added), set (balance replaced by setQuota) or deleted (the quota was deleted; the balance written off).';
