/**
 * The scheduler's in-memory index is replaced on every rebuild, never accumulated: after
 * a thousand rebuilds over a hundred schedules (each with a constraint and bindings) the
 * heap is where it was after the first fifty, the index holds exactly the schedules that
 * exist, and no entry object survives a rebuild.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './helpers/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

describe('schedule index', () => {
  // Fixed work (450 rebuilds, each a query) that a loaded machine makes slow: a timeout of its own.
  it('memory stays flat over many rebuilds', { timeout: 300_000 }, async () => {
    await db.jl.actions.add({ name: 'a1', type: 'retry' });
    await db.jl.actions.add({ name: 'a2', type: 'webhook', config: { url: 'http://127.0.0.1:9/h' } });
    for (let i = 0; i < 100; i++) {
      await db.jl.schedules.add({
        name: `s${i}`,
        cron: i % 2 ? '*/5 * * * *' : '0 3 * * MON-FRI',
        timezone: i % 3 ? 'Europe/Berlin' : 'America/New_York',
        job: { queue: 'q', name: 'x', input: { i, pad: 'x'.repeat(200) } },
        constraint: { maxConcurrentRuns: 1 + (i % 4), catchUp: i % 2 === 0 },
        actions: [
          { action: 'a1', trigger: 'on_failure' },
          { action: 'a2', trigger: 'on_violation' },
        ],
      });
    }
    const sch = db.jl.scheduler();
    await sch.rebuildIndex();
    const first = sch.index.byScheduleName('s7')!;
    expect(first.bindings).toHaveLength(2);
    expect(first.constraint?.maxConcurrentRuns).toBe(4);
    for (let i = 0; i < 50; i++) await sch.rebuildIndex();
    const warm = heapMb();
    for (let i = 0; i < 400; i++) await sch.rebuildIndex();
    const after = heapMb();
    expect(sch.index.rebuilds).toBe(451);
    expect(sch.index.size).toBe(100);
    expect([...sch.index.values()].length).toBe(100);
    // replaced, not patched: the old entry is not the current one
    expect(sch.index.byScheduleName('s7')).not.toBe(first);
    expect(sch.index.byScheduleName('s7')).toEqual(expect.objectContaining({ id: first.id, name: 's7' }));
    // 400 more rebuilds of 100 schedules add under 5 MB; keeping each old index (~100 entries
    // with compiled crons and templates, ~0.1 MB each) would add some 40 MB
    expect(after - warm).toBeLessThan(5);
    // and a removed schedule leaves the index at the next rebuild
    await db.jl.schedules.remove('s7');
    await sch.rebuildIndex();
    expect(sch.index.size).toBe(99);
    expect(sch.index.byScheduleName('s7')).toBeUndefined();
  });
});
