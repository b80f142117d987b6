/**
 * Two byte formats of the Docker Engine API: the multiplexed log stream (8-byte frame header:
 * stream id, 3 zero bytes, big-endian length) and the tar archives of `/containers/{id}/archive`
 * (one regular file in, one file out — a 512-byte ustar header then the content).
 */

/** Splits a multiplexed stream into stdout and stderr as frames arrive; stdout stops growing past `maxStdout`. */
export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  readonly stdout: Buffer[] = [];
  stdoutBytes = 0;
  overflow = false;
  constructor(
    private readonly maxStdout: number,
    private readonly onStderr: (chunk: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const kind = this.pending[0];
      const frame = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      if (kind === 2) this.onStderr(frame);
      else if (kind === 1) this.addStdout(frame);
    }
  }

  private addStdout(frame: Buffer): void {
    this.stdoutBytes += frame.length;
    if (this.stdoutBytes > this.maxStdout) {
      this.overflow = true;
      this.stdout.length = 0;
      return;
    }
    if (!this.overflow) this.stdout.push(frame);
  }

  stdoutText(): string {
    return Buffer.concat(this.stdout).toString('utf8');
  }
}

const BLOCK = 512;

function header(name: string, size: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100)
    throw new Error(`path "${name}" is over 100 bytes, too long for a tar header; use a shorter inputPath`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'utf8');
  h.write(type === '5' ? '0000755\0' : '0000644\0', 100, 'ascii'); // mode
  h.write('0000000\0', 108, 'ascii'); // uid
  h.write('0000000\0', 116, 'ascii'); // gid
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write(
    Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0') + '\0',
    136,
    'ascii',
  );
  h.write('        ', 148, 'ascii'); // the checksum is computed with its own field as spaces
  h.write(type, 156, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/**
 * A tar archive, to be extracted at `/`, holding the absolute `file` with `content` and a
 * directory entry for each of its parents (so an input path need not exist in the image).
 */
export function tarFileAt(file: string, content: Buffer): Buffer {
  const parts = file.replace(/^\/+/, '').split('/');
  const dirs = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/') + '/');
  const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
  return Buffer.concat([
    ...dirs.map((d) => header(d, 0, '5')),
    header(parts.join('/'), content.length, '0'),
    content,
    Buffer.alloc(pad),
    Buffer.alloc(2 * BLOCK),
  ]);
}

/** The content of the first regular file in a tar archive (what `GET …/archive?path=<file>` returns). */
export function firstFileOfTar(tar: Buffer): Buffer | undefined {
  for (let off = 0; off + BLOCK <= tar.length; ) {
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return undefined;
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156] ?? 0);
    const start = off + BLOCK;
    if (type === '0' || type === '\0') return tar.subarray(start, start + size);
    off = start + Math.ceil(size / BLOCK) * BLOCK; // directories, pax headers, links: skipped
  }
  return undefined;
}
