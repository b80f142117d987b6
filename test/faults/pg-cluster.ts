/**
 * A primary and a synchronous streaming standby of the scenario's own, from the machine's
 * PostgreSQL 15 binaries (initdb, pg_basebackup, pg_ctl), on their own ports and temp dirs,
 * run as user postgres (PostgreSQL refuses root). Synchronous replication
 * (`synchronous_standby_names = 'standby1'`, `synchronous_commit = on`): a commit is
 * acknowledged only once the standby has flushed it, so an acknowledged job survives the
 * primary's death. Everything started here is stopped by pid / pg_ctl on its own data dir.
 */
import { execFile, execFileSync, type ExecFileOptions } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../helpers/pgbouncer.js';

const run = promisify(execFile);
export const PG_BIN = ['/usr/lib/postgresql/15/bin'].find((d) => existsSync(join(d, 'initdb')));

/** uid/gid of user postgres when we are root (PostgreSQL refuses to run as root). */
function asPostgres(): ExecFileOptions {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface PgNode {
  name: string;
  port: number;
  dir: string;
  url: string;
  /** The postmaster's pid (first line of postmaster.pid). */
  pid(): number | undefined;
}

export class PgCluster {
  readonly root = mkdtempSync(join(tmpdir(), 'jobline-ha-'));
  primary!: PgNode;
  standby!: PgNode;

  private async bin(name: string, args: string[]): Promise<string> {
    if (!PG_BIN)
      throw new Error('PostgreSQL 15 server binaries are missing (/usr/lib/postgresql/15/bin): apt-get install -y postgresql-15');
    const { stdout } = await run(join(PG_BIN, name), args, { ...asPostgres(), cwd: this.root, maxBuffer: 1 << 24 });
    return String(stdout);
  }

  private node(name: string, port: number): PgNode {
    const dir = join(this.root, name);
    return {
      name,
      port,
      dir,
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      pid: () => {
        const f = join(dir, 'postmaster.pid');
        return existsSync(f) ? Number(readFileSync(f, 'utf8').split('\n')[0]) : undefined;
      },
    };
  }

  async start(): Promise<void> {
    const ids = asPostgres();
    if (ids.uid !== undefined) chownSync(this.root, ids.uid, ids.gid!);
    this.primary = this.node('primary', await freePort());
    this.standby = this.node('standby', await freePort());
    await this.bin('initdb', ['-D', this.primary.dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    appendFileSync(
      join(this.primary.dir, 'postgresql.conf'),
      [
        '',
        `port = ${this.primary.port}`,
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        'wal_level = replica',
        'max_wal_senders = 5',
        'max_connections = 60',
        'shared_buffers = 32MB',
        "synchronous_standby_names = 'standby1'",
        'synchronous_commit = on',
        'wal_sender_timeout = 5s',
        'fsync = on',
        '',
      ].join('\n'),
    );
    appendFileSync(join(this.primary.dir, 'pg_hba.conf'), '\nhost replication all 127.0.0.1/32 trust\n');
    await this.bin('pg_ctl', ['-D', this.primary.dir, '-l', join(this.root, 'primary.log'), '-w', 'start']);
    await this.bin('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(this.primary.port),
      '-U',
      'postgres',
      '-D',
      this.standby.dir,
      '-R',
      '-X',
      'stream',
      '--no-sync',
    ]);
    // The standby names itself for synchronous_standby_names; once promoted it must not wait
    // for a standby of its own, so its copy of that setting is cleared.
    appendFileSync(
      join(this.standby.dir, 'postgresql.conf'),
      [
        '',
        `port = ${this.standby.port}`,
        "cluster_name = 'standby1'",
        "synchronous_standby_names = ''",
        'hot_standby = on',
        'wal_receiver_timeout = 5s',
        '',
      ].join('\n'),
    );
    await this.bin('pg_ctl', ['-D', this.standby.dir, '-l', join(this.root, 'standby.log'), '-w', 'start']);
    // Synchronous from here: wait until the primary sees the standby as 'sync'.
    const c = new pg.Client({ connectionString: this.primary.url });
    await c.connect();
    try {
      for (let i = 0; i < 200; i++) {
        const { rows } = await c.query(`select sync_state from pg_stat_replication where application_name = 'standby1'`);
        if (rows[0]?.sync_state === 'sync') return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('the standby did not become synchronous within 10 s');
    } finally {
      await c.end();
    }
  }

  /** Kills the primary's postmaster with SIGKILL (no shutdown checkpoint, clients cut). */
  killPrimary(): void {
    const pid = this.primary.pid();
    if (pid) process.kill(pid, 'SIGKILL');
  }

  /** `pg_ctl promote -w`: the standby leaves recovery and accepts writes. */
  async promote(): Promise<void> {
    await this.bin('pg_ctl', ['-D', this.standby.dir, '-w', 'promote']);
  }

  async createDatabase(name: string): Promise<void> {
    const c = new pg.Client({ connectionString: this.primary.url });
    await c.connect();
    await c.query(`create database "${name}"`);
    await c.end();
  }

  async stop(): Promise<void> {
    for (const n of [this.standby, this.primary]) {
      if (!n) continue;
      if (existsSync(join(n.dir, 'postmaster.pid'))) {
        await this.bin('pg_ctl', ['-D', n.dir, '-m', 'immediate', '-w', 'stop']).catch(() => {
          const pid = n.pid();
          if (pid) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* gone */
            }
          }
        });
      }
    }
    // Orphaned backends of a SIGKILLed postmaster exit on their own (they watch the postmaster).
    rmSync(this.root, { recursive: true, force: true });
  }
}
