// The app's tests with node:test. DATABASE_URL chooses the server; without it each test file
// starts an embedded PostgreSQL of its own.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTestDatabase } from '@jobline/testing';
import { MAIL_QUEUE, handlers, memoryMailer, migrateApp, signUp } from '../src/app.mjs';

let db;
before(async () => {
  db = await createTestDatabase();
  await migrateApp(db.jl);
});
after(() => db?.close());
beforeEach(async () => {
  await db.reset();
  await migrateApp(db.jl);
});

describe('sign-up (node:test)', () => {
  it('enqueues the welcome mail with the user', async () => {
    const id = await signUp(db.jl, 'ada@example.com');
    const [job] = await db.expectEnqueued({ queue: MAIL_QUEUE, name: 'send-welcome', input: { userId: id, email: 'ada@example.com' } });
    assert.equal(job.state, 'available');
  });

  it('sends it through the real worker and schedules the nudge', async () => {
    await signUp(db.jl, 'grace@example.com');
    const mailer = memoryMailer();
    const [welcome] = await db.enqueued({ queue: MAIL_QUEUE, name: 'send-welcome' });
    const r = await db.runJob(handlers(db.jl, mailer), welcome.id);
    assert.equal(r.state, 'completed');
    assert.deepEqual(r.output, { messageId: 'm-1' });
    assert.deepEqual(mailer.sent, [{ to: 'grace@example.com', subject: 'Welcome!' }]);
    const [nudge] = await db.expectEnqueued({ queue: MAIL_QUEUE, name: 'send-nudge', state: 'scheduled' });
    assert.ok(nudge.runAt.getTime() > Date.now() + 2 * 24 * 3600_000);
  });
});
