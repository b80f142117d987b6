/**
 * The application: signing a user up enqueues a welcome mail in the same transaction as the
 * user row; the mail handler "sends" it through a mailer and schedules a nudge three days later.
 */
export const MAIL_QUEUE = 'mail';
const DAY = 24 * 3600_000;

/** Creates the app's own table (the app's migration; Jobline has its own). */
export async function migrateApp(jl) {
  await jl.pool.query(`create table if not exists ${jl.s}.app_users (id bigint generated always as identity primary key, email text not null unique)`);
}

/** One transaction: the user exists if and only if their welcome mail is enqueued. */
export async function signUp(jl, email) {
  const client = await jl.pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query(`insert into ${jl.s}.app_users (email) values ($1) returning id`, [email]);
    await jl.enqueue({ queue: MAIL_QUEUE, name: 'send-welcome', input: { userId: rows[0].id, email }, idempotencyKey: `welcome:${email}` }, { tx: client });
    await client.query('commit');
    return rows[0].id;
  } catch (err) {
    await client.query('rollback');
    throw err;
  } finally {
    client.release();
  }
}

/** Job handlers; `mailer.send(to, subject)` is the app's mail gateway. */
export function handlers(jl, mailer) {
  return {
    'send-welcome': async ({ email, userId }) => {
      const id = await mailer.send(email, 'Welcome!');
      await jl.enqueue({ queue: MAIL_QUEUE, name: 'send-nudge', input: { email, userId }, runAt: new Date(Date.now() + 3 * DAY) });
      return { messageId: id };
    },
    'send-nudge': async ({ email }) => ({ messageId: await mailer.send(email, 'Still there?') }),
  };
}

/** A mailer that remembers what it sent (the tests' gateway). */
export function memoryMailer({ failFirst = 0 } = {}) {
  const sent = [];
  let calls = 0;
  return {
    sent,
    async send(to, subject) {
      if (++calls <= failFirst) throw new Error(`mail gateway unavailable (call ${calls})`);
      sent.push({ to, subject });
      return `m-${sent.length}`;
    },
  };
}
