/**
 * The scheduler's in-memory index: every schedule with its compiled cron, constraint and action
 * bindings. Rebuilt on change (NOTIFY) and on an interval. A rebuild builds a complete new Map
 * and swaps it in, so nothing of the old index survives it: memory follows the number of
 * schedules, not the number of rebuilds (test/schedule-index.test.ts checks this).
 */
import type { Logger } from 'pino';
import type { Queryable } from '../db/pool.js';
import { loadBindings } from './actions-store.js';
import { listConstraintRows } from './constraints.js';
import { compileCron, type CompiledCron } from './cron.js';
import { SCHEDULE_COLUMNS, mapSchedule, type Constraint, type ScheduleActionBinding, type ScheduleRow } from './rows.js';

export interface IndexedSchedule {
  id: number;
  name: string;
  cron: CompiledCron;
  job?: Record<string, unknown>;
  dag?: Record<string, unknown>;
  paused: boolean;
  constraint?: Constraint;
  bindings: ScheduleActionBinding[];
  /** Runs need a start check (constraint evaluated when due, or a DAG submitted when due). */
  gated: boolean;
  /** The first occurrence after a cursor, remembered per entry (croner takes ~45 µs per lookup). */
  nextAfter?: { cursor: number; next: number };
}

export function isGated(dag: unknown, c: Constraint | undefined): boolean {
  return (
    dag !== undefined ||
    (c !== undefined && (c.maxConcurrentRuns !== undefined || c.requirePreviousSuccess !== undefined || c.preRunHook !== undefined))
  );
}

export class ScheduleIndex {
  private byId = new Map<number, IndexedSchedule>();
  private byName = new Map<string, IndexedSchedule>();
  /** How many rebuilds replaced the index. */
  rebuilds = 0;
  builtAt = 0;

  get size(): number {
    return this.byId.size;
  }

  get(id: number): IndexedSchedule | undefined {
    return this.byId.get(id);
  }

  byScheduleName(name: string): IndexedSchedule | undefined {
    return this.byName.get(name);
  }

  values(): IterableIterator<IndexedSchedule> {
    return this.byId.values();
  }

  /** Loads everything in three statements and replaces the index. */
  async rebuild(db: Queryable, s: string, log?: Logger): Promise<void> {
    const { rows } = await db.query<ScheduleRow>(`select ${SCHEDULE_COLUMNS} from ${s}.schedules s order by s.id`);
    const constraints = new Map((await listConstraintRows(db, s)).map((c) => [c.id, c]));
    const bindings = await loadBindings(db, s, 'all');
    const byId = new Map<number, IndexedSchedule>();
    const byName = new Map<string, IndexedSchedule>();
    for (const r of rows) {
      const sc = mapSchedule(r);
      // An unchanged expression keeps its compiled form (croner builds a formatter per zone:
      // ~0.1 ms a schedule); everything else is new, and the old entries go with the old Map.
      const prev = this.byId.get(sc.id)?.cron;
      let cron: CompiledCron;
      try {
        cron = prev && prev.expression === sc.cron && prev.timezone === sc.timezone ? prev : compileCron(sc.cron, sc.timezone);
      } catch (err) {
        // Written through the validated API this cannot happen; a hand-edited row is skipped, not fatal.
        log?.error({ err, schedule: sc.name }, 'schedule has an invalid cron expression; it is ignored');
        continue;
      }
      const constraint = sc.constraintId === undefined ? undefined : constraints.get(sc.constraintId);
      const entry: IndexedSchedule = {
        id: sc.id,
        name: sc.name,
        cron,
        job: sc.job,
        dag: sc.dag,
        paused: sc.paused,
        constraint,
        bindings: bindings.get(sc.id) ?? [],
        gated: isGated(sc.dag, constraint),
      };
      byId.set(sc.id, entry);
      byName.set(sc.name, entry);
    }
    this.byId = byId;
    this.byName = byName;
    this.rebuilds++;
    this.builtAt = Date.now();
  }
}
