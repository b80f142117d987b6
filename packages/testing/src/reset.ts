import type { Jobline } from '@jobline/core';
import { internals } from '@jobline/core/internal';

/**
 * Empties every Jobline table of the instance's schema except the migration ledger, with one
 * TRUNCATE (identities restart, so ids start at 1 again). Stop the workers using the schema
 * first: TRUNCATE waits for their transactions.
 */
export async function reset(jl: Jobline): Promise<void> {
  const { rows } = await internals(jl).pool.query<{ t: string }>(
    `select quote_ident(tablename) as t from pg_tables where schemaname = $1 and tablename <> 'migrations' order by tablename`,
    [jl.schema],
  );
  if (!rows.length) return;
  await internals(jl).pool.query(`truncate ${rows.map((r) => `${internals(jl).s}.${r.t}`).join(', ')} restart identity cascade`);
}
