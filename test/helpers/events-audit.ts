import type { TestDb } from './db.js';

/**
 * Records every outbox insert (the database's own order) in `events_audit`, which the relay never
 * deletes: what a run wrote, to compare with what reached the stream.
 */
export async function auditEvents(db: TestDb): Promise<void> {
  const s = `"${db.schema}"`;
  await db.sql(`create table ${s}.events_audit (id bigint primary key, type text, subject text, job_id bigint, dag_run_id bigint)`);
  await db.sql(`create function ${s}.audit_event() returns trigger language plpgsql as $$
    begin insert into ${s}.events_audit values (new.id, new.type, new.subject, new.job_id, new.dag_run_id); return new; end $$`);
  await db.sql(`create trigger events_audit after insert on ${s}.events for each row execute function ${s}.audit_event()`);
}
