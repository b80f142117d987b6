/**
 * The application: signing a user up enqueues a welcome mail in the same transaction as the
 * user row; the mail handler "sends" it through a mailer and schedules a nudge three days later.
 */
export const MAIL_QUEUE = 'mail';
const DAY = 24 * 3600_000;

/** Creates the app's own table (the app's migration; Jobline has its own). */
export async function migrateApp(jl) {
  await jl.transaction((tx) =>
    tx.query(
      `create table if not exists ${usersTable(jl)} (id bigint generated always as identity primary key, email text not null unique)`,
    ),
  );
}

/** One transaction: the user exists if and only if their welcome mail is enqueued. */
export async function signUp(jl, email) {
  return jl.transaction(async (tx) => {
    const { rows } = await tx.query(`insert into ${usersTable(jl)} (email) values ($1) returning id`, [email]);
    await jl.enqueue(
      { queue: MAIL_QUEUE, name: 'send-welcome', input: { userId: rows[0].id, email }, idempotencyKey: `welcome:${email}` },
      { tx },
    );
    return rows[0].id;
  });
}

/** The app keeps its table next to Jobline's (schema names are checked by Jobline.connect). */
const usersTable = (jl) => `"${jl.schema}".app_users`;

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
