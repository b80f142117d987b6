/**
 * `startPostgresContainer` (behind `createTestDatabase({ container: true })`) on a real engine:
 * podman's Docker-API service here (`source .ci/podman.sh`), the local Debian PostgreSQL image
 * (`ensure_postgres_image` in .ci/images/lib.sh), Ryuk disabled (its image cannot be pulled here).
 * Run by .ci/steps/56-testcontainers.sh: `npx vitest run --config vitest.testcontainers.config.ts`.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import pino from 'pino';
import { GenericContainer, getContainerRuntimeClient } from 'testcontainers';
import { Jobline } from '@jobline/core';
import { startPostgresContainer, type StartedPostgres } from '../../packages/testing/src/container.js';
import { waitFor } from '../helpers/db.js';

const image = process.env.JOBLINE_TEST_POSTGRES_IMAGE ?? 'localhost/jobline-postgres:15';
const containersLabelled = async () =>
  (await (await getContainerRuntimeClient()).container.list()).filter((c) => c.Labels?.['dev.jobline.testing']);

let pgc: StartedPostgres;
beforeAll(async () => {
  if (!process.env.DOCKER_HOST && !process.env.JOBLINE_DOCKER_SOCKET) {
    throw new Error('DOCKER_HOST is not set: run `source .ci/podman.sh` first (or point it at a Docker engine)');
  }
  pgc = await startPostgresContainer({ image });
}, 120_000);
afterAll(() => pgc?.stop());

describe('startPostgresContainer (testcontainers)', () => {
  it('serves a PostgreSQL of the image, with the requested user, database and password', async () => {
    const url = new URL(pgc.url);
    // The engine's published port (testcontainers picks the host: here podman's bridge gateway).
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(url.port).not.toBe('5432');
    const client = new pg.Client({ connectionString: pgc.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT current_user AS u, current_database() AS d, version() AS v, current_setting($1) AS fsync',
        ['fsync'],
      );
      expect(rows[0]).toMatchObject({ u: 'jobline', d: 'jobline_test', fsync: 'off' });
      expect(rows[0].v).toMatch(/^PostgreSQL \d+/);
    } finally {
      await client.end();
    }
    // TCP clients must know the password (scram), not just the user name.
    const wrong = new pg.Client({ connectionString: pgc.url.replace(/:[^:@/]+@/, ':wrong@') });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    await wrong.end().catch(() => undefined);
  });

  it('runs Jobline on it: migrate, enqueue, a worker completes the job with one execution', async () => {
    const jl = await Jobline.connect({ databaseUrl: pgc.url, logger: pino({ level: 'silent' }) });
    try {
      await jl.migrate();
      const job = await jl.enqueue({ queue: 'tc', name: 'double', input: { n: 21 } });
      const worker = jl.worker({
        queues: ['tc'],
        concurrency: 2,
        handlers: { double: async (input: { n: number }) => ({ n: input.n * 2 }) },
      });
      await worker.start();
      try {
        const done = await waitFor(
          async () => {
            const j = await jl.getJob(job.id);
            return j.state === 'completed' && j;
          },
          20_000,
          `job ${job.id} to complete`,
        );
        expect(done.output).toEqual({ n: 42 });
        const execs = await jl.executions(job.id);
        expect(execs).toHaveLength(1);
        expect(execs[0]).toMatchObject({ attempt: 1, state: 'completed', output: { n: 42 } });
      } finally {
        await worker.stop();
      }
    } finally {
      await jl.close();
    }
  });

  it('removes, on start, labelled containers whose creating process is gone (the reaper without Ryuk)', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const orphan = await new GenericContainer('localhost/jobline-busybox:latest')
      .withCommand(['sleep', '600'])
      .withLabels({
        'dev.jobline.testing': 'postgres',
        'dev.jobline.testing.pid': String(dead),
        'dev.jobline.testing.host': (await import('node:os')).hostname(),
      })
      .start();
    const id = orphan.getId();
    expect((await containersLabelled()).map((c) => c.Id)).toContain(id);
    const second = await startPostgresContainer({ image });
    try {
      const ids = (await containersLabelled()).map((c) => c.Id);
      expect(ids).not.toContain(id);
      // Live owners' containers stay: this process owns both of these.
      expect(ids.length).toBeGreaterThanOrEqual(2);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('stop() removes the container, and is idempotent', async () => {
    const third = await startPostgresContainer({ image });
    const port = new URL(third.url).port;
    const before = await containersLabelled();
    await Promise.all([third.stop(), third.stop()]);
    const after = await containersLabelled();
    expect(after.length).toBe(before.length - 1);
    const client = new pg.Client({ connectionString: third.url, connectionTimeoutMillis: 3000 });
    await expect(client.connect()).rejects.toThrow();
    await client.end().catch(() => undefined);
    expect(after.some((c) => c.Ports?.some((p) => String(p.PublicPort) === port))).toBe(false);
  }, 120_000);
});
