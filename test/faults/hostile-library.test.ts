/**
 * Scenario 7 (library API): hostile input — arbitrary JSON with unicode, deep nesting,
 * prototype-pollution keys, SQL-looking strings, odd queue names and numbers. Each value is
 * either rejected with a ValidationError naming the field, or stored and returned exactly
 * (as JSON); nothing else changes and nothing crashes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@jobline/core';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { scale } from './checker.js';

let db: TestDb;
let sentinel: { id: number; updatedAt: Date };
beforeAll(async () => {
  db = await openTestDb({ maxInputBytes: 64 * 1024 });
  sentinel = await db.jl.enqueue({ queue: 'sentinel', name: 'untouched', input: { keep: 'me' } });
});
afterAll(() => db.close());

const runs = scale(150, 1000);
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));
const sqlish = fc.constantFrom("'; drop table jobs; --", '" or 1=1 --', '$1', '\\x00', '%s%n', '{"$ref": "x"}', 'ＳＥＬＥＣＴ');

async function expectSentinelIntact() {
  const j = await db.jl.getJob(sentinel.id);
  expect(j.input).toEqual({ keep: 'me' });
  expect(j.updatedAt.getTime()).toBe(sentinel.updatedAt.getTime());
}

describe('hostile input through the library', () => {
  it('arbitrary JSON inputs are stored and returned exactly, or rejected naming `input`', async () => {
    const value = fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.string({ unit: 'binary' }), sqlish, fc.object({ maxDepth: 3 }));
    await fc.assert(
      fc.asyncProperty(value, async (input) => {
        try {
          const j = await db.jl.enqueue({ queue: 'fuzz', name: 'x', input });
          expect((await db.jl.getJob(j.id)).input).toEqual(asJson(input));
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).issues[0].path).toBe('input');
        }
      }),
      { numRuns: runs },
    );
    await expectSentinelIntact();
  });

  it('prototype-pollution keys are plain data and pollute nothing', async () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
    const j = await db.jl.enqueue({ queue: 'fuzz', name: 'proto', input });
    const back = await db.jl.getJob(j.id);
    expect(Object.keys(back.input as object).sort()).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  });

  it('deep nesting, NUL characters, lone surrogates and oversize inputs are rejected clearly', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const cases: [unknown, RegExp][] = [
      [deep, /nested too deeply/],
      ['a\u0000b', /NUL character/],
      ['x\ud800y', /unpaired UTF-16 surrogate/],
      ['y'.repeat(70 * 1024), /over the 65536-byte limit/],
    ];
    for (const [input, msg] of cases) {
      const err = await db.jl.enqueue({ queue: 'fuzz', name: 'x', input }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.issues[0]).toMatchObject({ path: 'input', message: expect.stringMatching(msg) });
    }
    await expectSentinelIntact();
  });

  it('queue names and job names: accepted exactly, or a ValidationError naming the field', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme' }),
          fc.string({ unit: 'binary' }),
          sqlish,
          fc.constantFrom("q'uote", 'q"uote', 'ünï', 'a.b', 'a b', ''),
        ),
        fc.string({ unit: 'binary', maxLength: 300 }),
        async (queue, name) => {
          try {
            const j = await db.jl.enqueue({ queue, name });
            expect(j.queue).toBe(queue);
            expect(j.name).toBe(name);
            expect(queue).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
          } catch (err) {
            expect(err).toBeInstanceOf(ValidationError);
            const paths = (err as ValidationError).issues.map((i) => i.path);
            expect(paths.every((p) => p === 'queue' || p === 'name')).toBe(true);
          }
        },
      ),
      { numRuns: runs },
    );
    await expectSentinelIntact();
  });

  it('numbers: NaN, infinities, huge, negative and fractional options are rejected; valid ones stored exactly', async () => {
    const num = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31), 1e308, -0, 0.5),
      fc.string(),
      fc.constant(null),
    );
    await fc.assert(
      fc.asyncProperty(num, num, num, async (priority, maxAttempts, timeoutMs) => {
        try {
          const j = await db.jl.enqueue({ queue: 'nums', name: 'x', priority, maxAttempts, timeoutMs } as never);
          expect(j.priority).toBe(Object.is(priority, -0) ? 0 : priority); // -0 is stored as 0
          expect(j.maxAttempts).toBe(maxAttempts);
          expect(j.timeoutMs).toBe(timeoutMs);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          const paths = (err as ValidationError).issues.map((i) => i.path);
          expect(paths.length).toBeGreaterThan(0);
          expect(paths.every((p) => ['priority', 'maxAttempts', 'timeoutMs'].includes(p))).toBe(true);
        }
      }),
      { numRuns: runs },
    );
    await expectSentinelIntact();
  });
});
