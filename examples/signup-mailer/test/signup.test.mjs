// The same app tested with vitest: seed data, retries through runJob, and drain.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@jobline/testing';
import { MAIL_QUEUE, handlers, memoryMailer, migrateApp, signUp } from '../src/app.mjs';

let db;
beforeAll(async () => {
  db = await createTestDatabase();
  await migrateApp(db.jl);
});
afterAll(() => db?.close());
beforeEach(async () => {
  await db.reset();
  await migrateApp(db.jl);
});

describe('sign-up (vitest)', () => {
  it('retries the welcome mail while the gateway is down, with one history row per attempt', async () => {
    await signUp(db.jl, 'linus@example.com');
    const mailer = memoryMailer({ failFirst: 2 });
    const [welcome] = await db.enqueued({ queue: MAIL_QUEUE, name: 'send-welcome' });
    const r = await db.runJob(handlers(db.jl, mailer), welcome.id, { retries: true });
    expect(r.state).toBe('completed');
    expect(r.executions.map((e) => e.state)).toEqual(['failed', 'failed', 'completed']);
    expect(r.executions[0].error).toMatchObject({ message: 'mail gateway unavailable (call 1)' });
  });

  it('a signed-up user cannot be signed up twice, and no second mail is enqueued', async () => {
    await signUp(db.jl, 'barbara@example.com');
    await expect(signUp(db.jl, 'barbara@example.com')).rejects.toThrow(/duplicate key/);
    await db.expectEnqueued({ queue: MAIL_QUEUE, name: 'send-welcome' }, { count: 1 });
  });

  it('drains the seeded backlog (seed is idempotent)', async () => {
    const backlog = {
      queues: { [MAIL_QUEUE]: { maxAttempts: 3 } },
      jobs: ['a', 'b', 'c'].map((u) => ({ queue: MAIL_QUEUE, name: 'send-welcome', input: { userId: 0, email: `${u}@example.com` } })),
    };
    await db.seed(backlog);
    await db.seed(backlog);
    const mailer = memoryMailer();
    const result = await db.drain(MAIL_QUEUE, handlers(db.jl, mailer));
    expect(result.completed).toHaveLength(3);
    expect(mailer.sent.map((m) => m.to).sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    // The nudges wait three days: drain leaves jobs scheduled for later.
    await db.expectEnqueued({ queue: MAIL_QUEUE, name: 'send-nudge', state: 'scheduled' }, { count: 3 });
  });
});
