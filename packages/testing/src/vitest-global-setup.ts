/**
 * A vitest globalSetup that starts one embedded PostgreSQL for the whole run when DATABASE_URL
 * is unset, and exports its URL as DATABASE_URL to the test workers (which vitest starts after
 * this ran), so every `createTestDatabase()` of the run shares it:
 *
 *   // vitest.config.ts
 *   export default defineConfig({ test: { globalSetup: ['@jobline/testing/vitest-global-setup'] } });
 */
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@jobline/embedded';

let server: EmbeddedPostgres | undefined;

export async function setup(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  server = await startEmbeddedPostgres();
  process.env.DATABASE_URL = server.url;
}

export async function teardown(): Promise<void> {
  if (!server) return;
  delete process.env.DATABASE_URL;
  await server.stop();
}
