/**
 * Chooses the test database (DESIGN §8): DATABASE_URL when set, else an embedded PostgreSQL
 * started here for the whole run. NATS: NATS_URL, default the local server on 4222; event tests
 * check it is reachable and, under CI=true, fail rather than skip when it is not.
 */
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@jobline/embedded';

let embedded: EmbeddedPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres();
    url = embedded.url;
    console.log(`[test] DATABASE_URL not set: using embedded PostgreSQL on port ${embedded.port}`);
  } else {
    console.log(`[test] using DATABASE_URL (${url.replace(/:[^:@/]*@/, ':***@')})`);
  }
  project.provide('databaseUrl', url);
  project.provide('natsUrl', process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    natsUrl: string;
  }
}
