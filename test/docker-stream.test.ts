/**
 * The two byte formats the container executor reads and writes without a library (see
 * packages/core/src/executors/docker-stream.ts): the engine's multiplexed log frames and tar
 * archives. The tar written here is checked by the system's own `tar`, not by our reader.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { firstFileOfTar, LogDemuxer, tarFileAt } from '../packages/core/dist/executors/docker-stream.js';

const frame = (kind: number, text: string) => {
  const body = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = kind;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
};

it('splits multiplexed frames into stdout and stderr, across chunk boundaries, and flags stdout past its cap', () => {
  const stderr: string[] = [];
  const d = new LogDemuxer(1000, (c) => stderr.push(c.toString()));
  const all = Buffer.concat([frame(1, '{"a":'), frame(2, 'log line\n'), frame(1, '1}\n')]);
  for (let i = 0; i < all.length; i += 3) d.push(all.subarray(i, i + 3)); // 3-byte chunks
  expect(d.stdoutText()).toBe('{"a":1}\n');
  expect(stderr.join('')).toBe('log line\n');
  expect(d.overflow).toBe(false);
  const small = new LogDemuxer(4, () => {});
  small.push(frame(1, 'too long'));
  expect(small.overflow).toBe(true);
  expect(small.stdoutText()).toBe('');
});

it('writes a tar that tar(1) extracts, parents included, and reads the first file of one tar(1) made', () => {
  const dir = mkdtempSync(join(tmpdir(), 'w16-tar-'));
  try {
    const content = Buffer.from(JSON.stringify({ hello: 'wörld', n: [1, 2, 3] }));
    writeFileSync(join(dir, 'in.tar'), tarFileAt('/jobline/deep/input.json', content));
    execFileSync('tar', ['-xf', join(dir, 'in.tar'), '-C', dir]);
    expect(readFileSync(join(dir, 'jobline/deep/input.json'))).toEqual(content);
    execFileSync('tar', ['-cf', join(dir, 'out.tar'), '-C', join(dir, 'jobline/deep'), 'input.json']);
    expect(firstFileOfTar(readFileSync(join(dir, 'out.tar')))).toEqual(content);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
