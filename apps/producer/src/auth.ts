/**
 * Bearer-token authentication and authorisation.
 *
 * JOBLINE_API_TOKENS is a JSON array; each entry has a `name` (for logs), the secret as `token`
 * or — better, so the secret never sits in config — its hex SHA-256 as `sha256`, the `queues` it
 * may touch (`"*"` = all) and its `scopes`: `read` (GET jobs, DAGs, queues, definitions), `write`
 * (enqueue, cancel, submit DAGs) and `admin` (register job definitions).
 *
 * Presented tokens are hashed and compared with every configured hash using timingSafeEqual,
 * without stopping at the first match, so timing reveals neither a token nor which one matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { QueueName } from '@jobline/core/schemas';

export const Scope = { read: 'read', write: 'write', admin: 'admin' } as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

const TokenEntry = z
  .strictObject({
    name: z.string().min(1).max(100).default('token'),
    token: z.string().min(16, 'tokens must be at least 16 characters; generate one with `openssl rand -hex 32`').optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, 'sha256 must be 64 hex digits (sha256sum of the token)')
      .optional(),
    queues: z.array(z.union([z.literal('*'), QueueName])).min(1, 'give at least one queue, or "*" for all'),
    scopes: z.array(z.enum(['read', 'write', 'admin'])).min(1, 'give at least one of "read", "write", "admin"'),
  })
  .refine((t) => (t.token === undefined) !== (t.sha256 === undefined), 'give exactly one of token or sha256');

export const ApiTokensSchema = z
  .array(TokenEntry)
  .min(1, 'give at least one token')
  .transform((entries) =>
    entries.map(
      (t): ApiToken => ({
        name: t.name,
        hash: t.sha256 ? Buffer.from(t.sha256, 'hex') : sha256(t.token!),
        queues: t.queues.includes('*') ? '*' : new Set(t.queues),
        scopes: new Set(t.scopes),
      }),
    ),
  );

export interface ApiToken {
  name: string;
  hash: Buffer;
  queues: '*' | Set<string>;
  scopes: Set<Scope>;
}

/** The caller a request was authenticated as; auth off = a principal allowed everything. */
export interface Principal {
  name: string;
  can(scope: Scope): boolean;
  canQueue(queue: string): boolean;
  allQueues: boolean;
  /** Queues this principal may see (undefined = all). */
  queues?: ReadonlySet<string>;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export const ANONYMOUS_ADMIN: Principal = {
  name: 'auth-off',
  can: () => true,
  canQueue: () => true,
  allQueues: true,
};

function principal(t: ApiToken): Principal {
  return {
    name: t.name,
    can: (scope) => t.scopes.has(scope),
    canQueue: (q) => t.queues === '*' || t.queues.has(q),
    allQueues: t.queues === '*',
    queues: t.queues === '*' ? undefined : t.queues,
  };
}

/** Resolves the bearer token of an Authorization header; undefined when absent or unknown. */
export function authenticate(tokens: ApiToken[], header: string | undefined): Principal | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const presented = sha256(m[1]);
  let found: ApiToken | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(presented, t.hash) && !found) found = t;
  }
  return found && principal(found);
}
