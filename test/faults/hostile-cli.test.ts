/**
 * Scenario 7 (CLI): hostile arguments to the built `jobline enqueue` — quotes, unicode, SQL-looking
 * text, broken JSON, prototype keys, NaN and huge numbers. Each run either stores the job exactly
 * (checked through `--json` and the database) or exits 2 with a message naming the field — never
 * a stack trace, never a change to other jobs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { runJobline } from '../helpers/cli.js';

let db: TestDb;
let sentinel: { id: number; updatedAt: Date };
beforeAll(async () => {
  db = await openTestDb();
  sentinel = await db.jl.enqueue({ queue: 'keep', name: 'untouched', input: { keep: 1 } });
});
afterAll(() => db.close());

async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runJobline(db, args, { LOG_LEVEL: 'silent' });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const cases: { args: string[]; accept?: (job: any) => void; field?: RegExp }[] = [
  { args: ['q', 'o\'brien "quoted" ünïcødé 🚀'], accept: (j) => expect(j.name).toBe('o\'brien "quoted" ünïcødé 🚀') },
  { args: ['q', 'x', '--input', "'; drop table jobs; --"], field: /input/ },
  { args: ['q', 'x', '--input', JSON.stringify("'; drop table jobs; --")], accept: (j) => expect(j.input).toBe("'; drop table jobs; --") },
  {
    args: ['q', 'x', '--input', '{"__proto__":{"polluted":true},"a":[1,{"b":null}]}'],
    accept: (j) => expect(j.input).toEqual(JSON.parse('{"__proto__":{"polluted":true},"a":[1,{"b":null}]}')),
  },
  { args: ['q', 'x', '--input', '{"a":'], field: /input/ },
  { args: ["bad'queue", 'x'], field: /queue/ },
  { args: ['q', 'x', '--priority=NaN'], field: /priority/ },
  { args: ['q', 'x', '--priority=1e309'], field: /priority/ },
  { args: ['q', 'x', '--priority=-5'], accept: (j) => expect(j.priority).toBe(-5) },
  { args: ['q', 'x', '--max-attempts=0'], field: /maxAttempts|max-attempts/ },
  { args: ['q', 'x', '--timeout-ms=-1'], field: /timeoutMs|timeout-ms/ },
  { args: ['q', 'x', '--run-at', 'tomorrow-ish'], field: /runAt|run-at/ },
  { args: ['q', 'x', '--input', JSON.stringify({ s: 'nul\u0000' })], field: /input/ },
];

it('hostile CLI arguments are stored exactly or refused naming the field, exit 2, no stack trace', async () => {
  for (const c of cases) {
    const r = await cli(['enqueue', ...c.args, '--json']);
    const label = JSON.stringify(c.args);
    expect(r.err, label).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
    if (c.accept) {
      expect(r.code, `${label}: ${r.err}`).toBe(0);
      const printed = JSON.parse(r.out);
      const job = printed.job ?? printed;
      c.accept(job);
      c.accept(await db.jl.getJob(job.id));
    } else {
      expect(r.code, `${label}: ${r.out}${r.err}`).toBe(2);
      expect(r.err + r.out, label).toMatch(c.field!);
    }
  }
  const keep = await db.jl.getJob(sentinel.id);
  expect(keep.input).toEqual({ keep: 1 });
  expect(keep.updatedAt.getTime()).toBe(sentinel.updatedAt.getTime());
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});
