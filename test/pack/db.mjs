// Creates or drops a throwaway database next to the one in DATABASE_URL (run from the temporary
// project, with the pg that @jobline/core brought in). `create NAME` prints its URL.
import pg from 'pg';

const [cmd, name] = process.argv.slice(2);
if (!/^[a-z0-9_]+$/.test(name ?? '')) throw new Error('usage: db.mjs create|drop <name>');
const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
await admin.connect();
try {
  if (cmd === 'create') {
    await admin.query(`create database "${name}"`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    console.log(url.toString());
  } else {
    await admin.query(`drop database if exists "${name}" with (force)`);
  }
} finally {
  await admin.end();
}
