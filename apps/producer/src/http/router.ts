/**
 * A small route table over node:http. Each route declares its zod schemas for path params,
 * query and body (validated here, before the handler runs) and for its responses (used by the
 * OpenAPI generator), and the scope it needs.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { toValidationError } from '@jobline/core/schemas';
import type { Principal, Scope } from '../auth.js';
import { HttpError } from './errors.js';

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send `body` as is (a string) with this content type instead of JSON. */
  contentType?: string;
}

export interface RouteContext {
  req: IncomingMessage;
  principal: Principal;
  log: Logger;
  /** 403 unless the caller may use `queue`. */
  requireQueue(queue: string): void;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

type Input<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Route<
  P extends z.ZodType | undefined = any,
  Q extends z.ZodType | undefined = any,
  B extends z.ZodType | undefined = any,
> {
  method: 'GET' | 'POST' | 'DELETE';
  /** Express-style: `/v1/jobs/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Scope required; 'public' routes need no token (probes, metrics, the OpenAPI document). */
  scope: Scope | 'public';
  params?: P;
  query?: Q;
  body?: B;
  /** The body may be omitted (e.g. cancel). */
  bodyOptional?: boolean;
  responses: Record<number, ResponseSpec>;
  handle(ctx: RouteContext, input: { params: Input<P>; query: Input<Q>; body: Input<B> }): Promise<RouteResult>;
}

export const defineRoute = <P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
  r: Route<P, Q, B>,
): Route<P, Q, B> => r;

interface Compiled {
  route: Route;
  regex: RegExp;
  keys: string[];
}

export class Router {
  private readonly compiled: Compiled[];
  constructor(readonly routes: Route[]) {
    this.compiled = routes.map((route) => {
      const keys: string[] = [];
      const pattern = route.path.replace(/:(\w+)/g, (_, k: string) => (keys.push(k), '([^/]+)'));
      return { route, regex: new RegExp(`^${pattern}$`), keys };
    });
  }

  /** The route for a method and path, or a 404/405 HttpError. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const allowed: string[] = [];
    for (const c of this.compiled) {
      const m = c.regex.exec(path);
      if (!m) continue;
      if (c.route.method !== method && !(method === 'HEAD' && c.route.method === 'GET')) {
        allowed.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.keys.forEach((k, i) => {
        try {
          params[k] = decodeURIComponent(m[i + 1]);
        } catch {
          params[k] = m[i + 1];
        }
      });
      return { route: c.route, params };
    }
    if (allowed.length) {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allowed.join(' or ')}`, undefined, {
        allow: allowed.join(', '),
      });
    }
    throw new HttpError(404, 'NOT_FOUND', `no endpoint ${method} ${path}; GET /openapi.json lists them`);
  }
}

/** Parses one part of the request with its schema; issues name the bad fields. */
export function parsePart<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw toValidationError(r.error);
  return r.data;
}
