import type pg from 'pg';
import { escapeLiteral } from 'pg';

/**
 * How a grouped claim reaches the server (issue 15): the queue's lock and the claim must be two
 * statements (the claim's snapshot has to start after the lock was granted, see
 * `claim-groups-sql.ts`), and they must share a transaction. Sent as `begin`+lock, claim, `commit`
 * that is three round trips; the claim of 200 jobs took about 8.5 ms of which the two extra round
 * trips were 1.7 ms (bench/experiments/groups-claim.mjs).
 *
 * With named statements allowed, the claim is prepared once per connection with SQL `PREPARE`,
 * and each claim is one simple-protocol string: `begin; select pg_advisory_xact_lock(…);
 * execute …(…); commit`. PostgreSQL runs a multi-statement string statement by statement, each
 * with its own snapshot under READ COMMITTED, so the claim still sees every claim committed before
 * the lock was granted. The arguments are written into the text as literals: the queue name and
 * worker id through `escapeLiteral`, numbers checked finite. Behind a transaction pooler (no
 * session state) the three round trips stay, with unnamed statements.
 */
/** The pool's named-statement mode (db/connection-options.ts `StatementMode`), as the claim sees it. */
export interface NamedStatements {
  readonly named: boolean;
  unname(reason: string): void;
}

export interface ClaimTrip {
  /** Prepared-statement name of the claim (an SQL identifier made by the caller) and its text. */
  name: string;
  text: string;
  /** Lock key: two int4 halves, computed by the caller, never input. */
  lock: [number, number];
  /** The claim's parameters, in `$n` order: strings, numbers, dates, arrays of them, or null. */
  values: readonly (Scalar | null | readonly Scalar[])[];
}

type Scalar = string | number | Date;

function scalarText(v: Scalar): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number' && !Number.isFinite(v)) throw new TypeError(`grouped claim: parameter ${v} is not a finite number`);
  return String(v);
}

/**
 * An SQL literal for one parameter value. Arrays are written in PostgreSQL's array text form
 * (every element double-quoted, `\` and `"` escaped) inside one escaped string literal; EXECUTE
 * casts each literal to the parameter's type, which PREPARE inferred from the statement's casts.
 */
function literal(v: ClaimTrip['values'][number]): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return scalarText(v);
  if (typeof v === 'string' || v instanceof Date) return escapeLiteral(scalarText(v));
  return escapeLiteral(`{${v.map((x) => `"${scalarText(x).replace(/[\\"]/g, '\\$&')}"`).join(',')}}`);
}

/** Connections on which each statement name has been prepared (a pool's clients live as long as their connection). */
const preparedOn = new Map<string, WeakSet<pg.PoolClient>>();

/**
 * 26000 invalid_sql_statement_name from the claim: the statement prepared on this client is not on
 * the server connection that ran it — a transaction-mode pooler moved the session (or someone ran
 * DEALLOCATE/DISCARD). A prepared statement outlives errors and rollbacks otherwise.
 */
export const lostSessionState = (err: unknown) => (err as { code?: string })?.code === '26000';

/** Runs the lock and the claim in one round trip on `client` (which must be idle); returns the claim's rows. */
export async function claimInOneTrip(client: pg.PoolClient, trip: ClaimTrip): Promise<pg.QueryResultRow[]> {
  let on = preparedOn.get(trip.name);
  if (!on) preparedOn.set(trip.name, (on = new WeakSet()));
  if (!on.has(client)) {
    // 42P05: the connection has it already (prepared by a claim whose result was lost); use it.
    await client.query(`prepare ${trip.name} as ${trip.text}`).catch((err) => {
      if ((err as { code?: string })?.code !== '42P05') throw err;
    });
    on.add(client);
  }
  const [a, b] = trip.lock;
  const results = (await client.query(
    `begin; select pg_advisory_xact_lock(${a | 0}, ${b | 0}); execute ${trip.name}(${trip.values.map(literal).join(', ')}); commit`,
  )) as unknown as pg.QueryResult[];
  return results[2]!.rows;
}

/** Forgets that `client` holds the prepared claims (after `lostSessionState`). */
export function forgetPrepared(client: pg.PoolClient): void {
  for (const on of preparedOn.values()) on.delete(client);
}
