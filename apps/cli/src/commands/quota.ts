import type { Balance } from '@jobline/core/tenants';
import { connect, intOption, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { table, writeJson } from '../output.js';

/** A whole number as typed (sign allowed): the library then says which values it accepts, naming the field. */
function units(v: string | undefined, field: string): number {
  if (v === undefined) throw new UsageError(`give the ${field}`);
  if (!/^-?\d{1,16}$/.test(v)) throw new UsageError(`${field} must be a whole number of units (got ${JSON.stringify(v)})`);
  return Number(v);
}

const show = (b: Balance) => `${b.group}: ${b.balance} ${b.unit}${b.held ? ' (held: its jobs wait until a top-up)' : ''}\n`;

export const quota: Command = {
  name: 'quota',
  summary: "set, top up, read and delete a group's (tenant's) quota and usage ledger",
  usage:
    'quota set <group> <balance> [--unit attempts|run_ms] [--note T] | quota top-up <group> <amount> [--note T] | quota show <group> | quota delete <group> | quota ledger <group> [--limit N] [--before ID]',
  help: `A group (the "group" of its jobs, e.g. a tenant) may have a wallet. Every finished attempt of its
jobs is charged to it — 1 unit per attempt (--unit attempts, the default) or its run time in ms
(--unit run_ms) — by one ledger entry written with the attempt. At a balance of 0 or below the
group's jobs are held (they stay available, nothing fails) until a top-up makes it positive.

  jobline quota set tenant-42 1000            # create or replace the wallet
  jobline quota top-up tenant-42 500 --note "invoice 7"
  jobline quota show tenant-42
  jobline quota ledger tenant-42 --limit 20
  jobline quota delete tenant-42              # no longer metered; held jobs run; the ledger is deleted too`,
  options: { unit: { type: 'string' }, note: { type: 'string' }, limit: { type: 'string' }, before: { type: 'string' } },
  async run({ positionals, values: v, json }) {
    const [sub, group, arg, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    if (!['set', 'top-up', 'show', 'ledger', 'delete'].includes(sub ?? '')) {
      throw new UsageError(sub ? `unknown quota subcommand ${JSON.stringify(sub)}` : 'use: quota set | top-up | show | ledger | delete');
    }
    if (!group) throw new UsageError('give the group (tenant) key');
    if ((sub === 'show' || sub === 'ledger' || sub === 'delete') && arg !== undefined)
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const note = v.note as string | undefined;
    const jl = await connect();
    try {
      if (sub === 'ledger') {
        const page = await jl.listLedger(group, {
          limit: intOption(v.limit, 'limit', 1, 1000),
          before: intOption(v.before, 'before', 1, Number.MAX_SAFE_INTEGER),
        });
        if (json) writeJson(page);
        else {
          process.stdout.write(
            table(page.entries, [
              { header: 'ID', get: (e) => e.id, right: true },
              { header: 'KIND', get: (e) => e.kind },
              { header: 'AMOUNT', get: (e) => e.amount, right: true },
              { header: 'BALANCE', get: (e) => e.balanceAfter, right: true },
              { header: 'JOB', get: (e) => (e.jobId === undefined ? undefined : `${e.jobId}#${e.attempt} ${e.executionState}`) },
              { header: 'NOTE', get: (e) => e.note, max: 40 },
              { header: 'AT', get: (e) => e.createdAt.toISOString() },
            ]),
          );
          if (page.nextCursor) process.stdout.write(`more: --before ${page.nextCursor}\n`);
        }
        return 0;
      }
      if (sub === 'delete') {
        const b = await jl.deleteQuota(group, { note });
        if (json) writeJson(b);
        else
          process.stdout.write(
            `${b.group}: quota deleted (was ${b.balance} ${b.unit}); its jobs are no longer metered (the ledger stays)\n`,
          );
        return 0;
      }
      const b =
        sub === 'set'
          ? await jl.setQuota(group, {
              balance: units(arg, 'balance'),
              ...(v.unit === undefined ? {} : { unit: v.unit as never }),
              ...(note === undefined ? {} : { note }),
            })
          : sub === 'top-up'
            ? await jl.topUp(group, units(arg, 'amount'), note === undefined ? {} : { note })
            : await jl.getBalance(group);
      if (json) writeJson(b);
      else process.stdout.write(show(b));
      return 0;
    } finally {
      await jl.close();
    }
  },
};
