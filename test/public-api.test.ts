/**
 * The curated public surface (issue 11): the root of @jobline/core is what an application needs
 * (at most 60 names, types included), everything else is behind a documented subpath that
 * resolves; apps reach core only through those exports and run no SQL of their own; a Jobline
 * shows neither its pool nor its connection string. The pack test (test/pack/consumer.ts)
 * imports every subpath again from the installed tarball.
 */
import { readdir, readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './helpers/db.js';

const root = new URL('../', import.meta.url);
const ROOT_LIMIT = 60;

const manifest = JSON.parse(await readFile(new URL('packages/core/package.json', root), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
};
const subpaths = Object.keys(manifest.exports).filter((k) => k !== './package.json');

/** One TypeScript program over every entry's declaration file (one is ~5 s on this machine). */
let program: ts.Program | undefined;
/** Every name (values and types) a declaration file exports, as a TypeScript user sees them. */
function exportedNames(dts: string): string[] {
  const path = (d: string) => new URL(`packages/core/${d}`, root).pathname;
  program ??= ts.createProgram(
    subpaths.map((s) => path((manifest.exports[s] as { types: string }).types)),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
      noEmit: true,
    },
  );
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(path(dts));
  if (!source) throw new Error(`${path(dts)} not found: build first`);
  return checker
    .getExportsOfModule(checker.getSymbolAtLocation(source)!)
    .map((s) => s.name)
    .sort();
}

async function walk(dir: URL): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const u = new URL(`${e.name}${e.isDirectory() ? '/' : ''}`, dir);
    if (e.isDirectory()) out.push(...(await walk(u)));
    else if (/\.(ts|tsx|mts|mjs|js)$/.test(e.name)) out.push(u.pathname);
  }
  return out;
}

describe('@jobline/core root export', () => {
  it(`has at most ${ROOT_LIMIT} names, types included (it had 286: 162 values and 124 types)`, async () => {
    const names = exportedNames('./dist/index.d.ts');
    const values = Object.keys(await import('@jobline/core'));
    console.log(`@jobline/core root: ${names.length} names (${values.length} values)`);
    expect(names.length).toBeGreaterThan(30); // the application API is there, not an empty module
    expect(names.length).toBeLessThanOrEqual(ROOT_LIMIT);
    // What DESIGN §6 names, and what every application catches, stays at the root.
    expect(names).toEqual(
      expect.arrayContaining([
        'Jobline',
        'Worker',
        'Job',
        'JobSpec',
        'DagSpec',
        'JoblineError',
        'ErrorCode',
        'ValidationError',
        'NotFoundError',
        'NonRetryableError',
        'TimeoutError',
        'JobTypes',
        'VERSION',
      ]),
    );
    // Admin, metrics, pools and schema internals do not.
    for (const n of [
      'createPool',
      'withTransaction',
      'migrate',
      'roleGrants',
      'MetricsRegistry',
      'Inspector',
      'Relay',
      'JobSpecSchema',
      'compileCron',
      'DockerClient',
      'quoteSchema',
      'internals',
    ])
      expect(names).not.toContain(n);
  });
});

describe('subpath exports', () => {
  it('every subpath has types and a module, each resolves and exports something', async () => {
    expect(subpaths.length).toBeGreaterThan(5);
    const readme = await readFile(new URL('packages/core/README.md', root), 'utf8');
    for (const sub of subpaths) {
      const target = manifest.exports[sub] as { types: string; default: string };
      expect(target, sub).toEqual({
        types: expect.stringMatching(/^\.\/dist\/.*\.d\.ts$/),
        default: expect.stringMatching(/^\.\/dist\/.*\.js$/),
      });
      const spec = `@jobline/core${sub.slice(1)}`;
      const mod = await import(spec);
      const names = exportedNames(target.types);
      expect(names.length, spec).toBeGreaterThan(0);
      // `typed` is types only; every other subpath has values too.
      if (sub !== './typed') expect(Object.keys(mod).length, spec).toBeGreaterThan(0);
      if (sub !== '.') expect(readme, `packages/core/README.md documents ${spec}`).toContain(`\`${spec}\``);
    }
  });

  it('every name the root had before is still exported by the root or one subpath (docs/MIGRATING.md lists the moves)', async () => {
    const before = (await readFile(new URL('test/fixtures/root-exports-before.txt', root), 'utf8')).trim().split('\n');
    const now = new Set(subpaths.flatMap((sub) => exportedNames((manifest.exports[sub] as { types: string }).types)));
    expect(before.filter((n) => !now.has(n))).toEqual([]);
    const migrating = await readFile(new URL('docs/MIGRATING.md', root), 'utf8');
    const rootNames = new Set(exportedNames('./dist/index.d.ts'));
    const moved = before.filter((n) => !rootNames.has(n));
    expect(moved.filter((n) => !new RegExp(`\\b${n}\\b`).test(migrating))).toEqual([]);
  });
});

describe('apps go through the library', () => {
  it('apps/*/src hold no SQL, no .query( calls and no import of core outside its exports map (and not /internal)', async () => {
    const allowed = new Set(subpaths.filter((s) => s !== './internal').map((s) => `@jobline/core${s.slice(1)}`));
    const offences: string[] = [];
    for (const app of ['producer', 'worker', 'cli', 'dashboard']) {
      for (const file of await walk(new URL(`apps/${app}/src/`, root))) {
        const text = await readFile(file, 'utf8');
        const rel = file.slice(new URL('.', root).pathname.length);
        text.split('\n').forEach((line, i) => {
          if (/(?<![<\w])(select|insert into|update \S+ set|delete from|drop schema|truncate)\s/i.test(line) && /[`'"]/.test(line))
            offences.push(`${rel}:${i + 1}: SQL: ${line.trim()}`);
          if (/\.query\(/.test(line)) offences.push(`${rel}:${i + 1}: .query(: ${line.trim()}`);
        });
        for (const m of text.matchAll(/from\s+['"](@jobline\/core[^'"]*)['"]|import\(\s*['"](@jobline\/core[^'"]*)['"]/g)) {
          const spec = m[1] ?? m[2];
          if (!allowed.has(spec)) offences.push(`${rel}: imports ${spec}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });
});

describe('connect options', () => {
  it('are resolved once into one object: defaults filled, environment read once, bad fields named', async () => {
    const { resolveConnectOptions } = await import('@jobline/core/admin');
    const { ValidationError } = await import('@jobline/core');
    const r = resolveConnectOptions({}, { DATABASE_URL: 'postgres://u:secret@h/db', NATS_URL: '', JOBLINE_SCHEMA: 'app_jobs' });
    expect(r).toMatchObject({
      databaseUrl: 'postgres://u:secret@h/db',
      schema: 'app_jobs',
      poolSize: 10,
      maxInputBytes: 1024 * 1024,
      notifyDebounceMs: 2,
      maxDagNodes: 10_000,
      maxDagEdges: 100_000,
      applicationName: 'jobline',
      migrate: true,
      natsUrl: undefined,
      slowQueryMs: 0,
      events: { stream: 'JOBLINE', subjectPrefix: 'jobline', source: '/jobline/app_jobs' },
    });
    expect(resolveConnectOptions({ schema: 'x', natsUrl: 'nats://127.0.0.1:4222', slowQueryMs: 50 }, {})).toMatchObject({
      schema: 'x',
      databaseUrl: undefined,
      natsUrl: 'nats://127.0.0.1:4222',
      slowQueryMs: 50,
    });
    const bad = (() => {
      try {
        resolveConnectOptions({ poolSize: 0, applicationName: '' } as never, {});
      } catch (e) {
        return e;
      }
    })();
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as InstanceType<typeof ValidationError>).issues.map((i) => i.path).sort()).toEqual(['applicationName', 'poolSize']);
  });
});

describe('a Jobline instance', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(() => db.close());

  it('shows neither its pool nor its connection string when logged or serialised', () => {
    const shown = [inspect(db.jl, { depth: 10 }), JSON.stringify(db.jl), String(JSON.stringify({ jl: db.jl }))];
    for (const s of shown) {
      expect(s).not.toContain(db.url);
      expect(s).not.toMatch(/Pool|connectionString/);
      expect(s).toContain(db.schema);
    }
  });

  it('serves the reads apps used to write SQL for: listQueues, health, inspect.outcomes, transaction', async () => {
    await db.jl.updateQueue('configured', { paused: true });
    await db.jl.enqueueMany([
      { queue: 'busy', name: 'a' },
      { queue: 'busy', name: 'b' },
    ]);
    expect(await db.jl.listQueues()).toEqual([
      { name: 'busy', paused: false, counts: { available: 2 } },
      { name: 'configured', paused: true, counts: {} },
    ]);
    expect(await db.jl.health()).toEqual({ database: true, migrationsCurrent: true });
    expect(await db.jl.inspect.outcomes()).toMatchObject([{ queue: 'busy', jobs: 2, completed: 0, failed: 0, retried: 0 }]);
    await expect(
      db.jl.transaction(async (tx) => {
        await db.jl.enqueue({ queue: 'rolled-back', name: 'x' }, { tx });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await db.jl.listQueues()).map((q) => q.name)).toEqual(['busy', 'configured']);
  });
});
