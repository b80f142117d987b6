import type { Queryable } from '../db/pool.js';

/** A job row that changed state, handed to DAG advancement inside the same transaction. */
export interface Transition {
  id: number;
  state: string;
  dagRunId?: number;
  dagNodeKey?: string;
}

/**
 * Runs inside the transaction that made `rows` (DESIGN §4: a DAG node's children are released by
 * the transaction that finished it). Injected at construction into whatever finishes jobs — the
 * worker's completer, the rescuer, `cancel` — so none of them imports the DAG layer above it.
 */
export type TransitionHook = (tx: Queryable, rows: Transition[]) => Promise<void>;
