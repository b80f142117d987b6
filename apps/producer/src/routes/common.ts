import type { IncomingMessage } from 'node:http';
import { ErrorBody } from '../api-schemas.js';
import type { ResponseSpec } from '../http/router.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: `error.issues` names each bad field',
  401: 'Missing or unknown bearer token',
  403: 'The token lacks the scope or the queue',
  404: 'No such resource',
  409: 'Conflicts with the current state',
  413: 'Body over the size limit',
  415: 'Body is not application/json',
  503: 'Not ready',
};

/** Error responses, all with the same body shape. */
export function errors(...statuses: number[]): Record<number, ResponseSpec> {
  return Object.fromEntries(statuses.map((s) => [s, { description: DESCRIPTIONS[s] ?? 'Error', schema: ErrorBody }]));
}

/**
 * The request's W3C `traceparent` header, handed to enqueue and submitDag so that the job's
 * producer span continues the caller's trace (core ignores an invalid value, as W3C asks).
 */
export function callerTrace(req: IncomingMessage): { callerTraceparent?: string } {
  const h = req.headers.traceparent;
  return typeof h === 'string' ? { callerTraceparent: h } : {};
}
