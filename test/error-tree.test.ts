/**
 * One error tree (issue 11): every error class @jobline/core exports, from the root or any
 * subpath, is a JoblineError with its own stable `code`; every code names one class; and no
 * class in core's source extends Error directly except JoblineError itself.
 */
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ErrorCode, JoblineError } from '@jobline/core';

const root = new URL('../', import.meta.url);
const manifest = JSON.parse(await readFile(new URL('packages/core/package.json', root), 'utf8')) as { exports: Record<string, unknown> };
const specs = Object.keys(manifest.exports)
  .filter((k) => k !== './package.json')
  .map((k) => `@jobline/core${k.slice(1)}`);

type Ctor = new (...args: any[]) => Error;
/** One instance of each class, built with plausible arguments (codes are instance fields). */
const make: Record<string, (C: Ctor) => Error> = {
  JoblineError: (C) => new C('something failed'),
  ValidationError: (C) => new C([{ path: 'queue', message: 'required' }]),
  NotFoundError: (C) => new C('job', 7),
  DuplicateError: (C) => new C('definition', 'name resize'),
  ForeignKeyError: (C) => new C('job', 'queue "x"'),
  ConflictError: (C) => new C('fenced', { id: 1 }),
  MigrationError: (C) => new C('checksum mismatch'),
  EmbeddedUnavailableError: (C) => new C('set DATABASE_URL'),
  NonRetryableError: (C) => new C('bad input'),
  CancelledError: (C) => new C(),
  ShutdownError: (C) => new C(),
  TimeoutError: (C) => new C(1000),
  ProcessExitError: (C) => new C('false', 1, null, ''),
  ContainerExitError: (C) => new C('alpine', 1, '', false),
  ImageMissingError: (C) => new C('alpine', '/var/run/docker.sock'),
  ImagePullError: (C) => new C('alpine', 'not found'),
  BadContainerOutputError: (C) => new C('not JSON'),
  DockerApiError: (C) => new C(500, 'boom', 'creating a container'),
  DockerUnreachableError: (C) => new C('/var/run/docker.sock', new Error('ENOENT')),
};

const isErrorClass = (v: unknown): v is Ctor => typeof v === 'function' && (v === Error || v.prototype instanceof Error);

describe('error tree', () => {
  it('every exported error class extends JoblineError and has a unique code from ErrorCode', async () => {
    const classes = new Map<string, Ctor>();
    for (const spec of specs) {
      for (const [name, v] of Object.entries(await import(spec))) if (isErrorClass(v)) classes.set(name, v);
    }
    expect(classes.size).toBeGreaterThanOrEqual(15);
    const codes = new Map<string, string>();
    const known = new Set<string>(Object.values(ErrorCode));
    for (const [name, C] of classes) {
      expect(make[name], `a factory for ${name} in this test`).toBeTypeOf('function');
      const e = make[name](C);
      expect(e, name).toBeInstanceOf(JoblineError);
      expect(e, name).toBeInstanceOf(C);
      expect(e.name).toBe(name);
      const code = (e as JoblineError).code;
      expect(known.has(code), `${name}.code ${code} is one of ErrorCode`).toBe(true);
      expect(codes.get(code), `${code} is used by ${codes.get(code)} and ${name}`).toBeUndefined();
      codes.set(code, name);
    }
  });

  it('in core source, only JoblineError extends Error, and each ErrorCode is assigned by exactly one class', async () => {
    const dir = new URL('packages/core/src/', root);
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const direct: string[] = [];
    const uses = new Map<string, string[]>();
    for (const f of files) {
      const text = await readFile(new URL(f, dir), 'utf8');
      for (const m of text.matchAll(/class (\w+) extends Error\b/g)) direct.push(`${f}: ${m[1]}`);
      for (const m of text.matchAll(/class (\w+) extends \w+ \{[\s\S]*?readonly code(?:: string)? = ErrorCode\.(\w+)/g))
        uses.set(m[2], [...(uses.get(m[2]) ?? []), m[1]]);
    }
    expect(direct).toEqual(['db/errors.ts: JoblineError']);
    for (const key of Object.keys(ErrorCode)) expect(uses.get(key), `ErrorCode.${key}`).toHaveLength(1);
  });

  it('codes survive serialisation: a job error record keeps the code that apps match on', async () => {
    const { NonRetryableError, TimeoutError } = await import('@jobline/core');
    expect(JSON.parse(JSON.stringify({ code: new NonRetryableError('x').code }))).toEqual({ code: ErrorCode.NonRetryable });
    expect(new TimeoutError(5).code).toBe('TIMEOUT');
  });
});
