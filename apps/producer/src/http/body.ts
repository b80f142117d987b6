import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

/**
 * Reads a JSON request body: 415 unless the content type is JSON, 413 past `maxBytes` (checked
 * against Content-Length before reading, and while reading for chunked bodies), 400 for JSON
 * that does not parse. An empty body with no content type is `undefined` (for POSTs without one).
 */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const length = req.headers['content-length'];
  const type = req.headers['content-type'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!type && (length === undefined || length === '0') && !chunked) return undefined;
  if (!type || !JSON_TYPE.test(type)) {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `send the body as application/json (got ${type ? JSON.stringify(type) : 'no content type'})`,
    );
  }
  if (length !== undefined && Number(length) > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // The client went away mid-body: its problem, not a server error.
    throw new HttpError(400, 'BAD_REQUEST', `the request body was cut off (${(err as Error).message})`);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '')
    throw new HttpError(400, 'VALIDATION', 'the body is empty; send a JSON document', [{ path: '', message: 'body is empty' }]);
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = `body is not valid JSON: ${(err as Error).message}`;
    throw new HttpError(400, 'VALIDATION', message, [{ path: '', message }]);
  }
}

const tooLarge = (max: number) =>
  // Connection: close — the rest of the oversized body is not read, so the connection cannot be reused.
  new HttpError(
    413,
    'PAYLOAD_TOO_LARGE',
    `the body is over the ${max}-byte limit (JOBLINE_MAX_BODY_BYTES); split batches or store large payloads elsewhere`,
    undefined,
    {
      connection: 'close',
    },
  );
