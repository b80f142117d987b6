/**
 * Builds the OpenAPI 3.1 document from the route table and the zod schemas in api-schemas.ts —
 * the same schemas that validate requests — so the document cannot drift from the server.
 * Request bodies are rendered as their input type (defaults optional), responses as output.
 */
import { z } from 'zod';
import { VERSION } from '@jobline/core';
import * as schemas from './api-schemas.js';
import type { Route } from './http/router.js';

const REF = (id: string) => `#/components/schemas/${id}`;
type JsonSchema = Record<string, unknown>;

function named(): Map<z.ZodType, string> {
  const m = new Map<z.ZodType, string>();
  for (const [name, v] of Object.entries(schemas)) if (v instanceof z.ZodType) m.set(v, name);
  return m;
}

function components(list: z.ZodType[], names: Map<z.ZodType, string>, io: 'input' | 'output'): Record<string, JsonSchema> {
  if (!list.length) return {};
  const reg = z.registry<{ id: string }>();
  for (const s of list) reg.add(s, { id: names.get(s)! });
  const out = z.toJSONSchema(reg, { io, uri: REF, target: 'draft-2020-12', unrepresentable: 'any' }).schemas as Record<string, JsonSchema>;
  for (const s of Object.values(out)) {
    delete s.$schema;
    delete s.$id;
  }
  return out;
}

function parameters(route: Route): JsonSchema[] {
  const out: JsonSchema[] = [];
  const add = (where: 'path' | 'query', obj: z.ZodType | undefined) => {
    if (!obj) return;
    const shape = (obj as z.ZodObject).shape as Record<string, z.ZodType>;
    for (const [name, field] of Object.entries(shape)) {
      const schema = z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
      delete schema.$schema;
      out.push({ name, in: where, required: where === 'path' || !field.safeParse(undefined).success, schema });
    }
  };
  add('path', route.params);
  add('query', route.query);
  return out;
}

export function buildOpenApi(routes: Route[]): JsonSchema {
  const names = named();
  const requestSchemas = new Set<z.ZodType>();
  const responseSchemas = new Set<z.ZodType>();
  for (const r of routes) {
    if (r.body) requestSchemas.add(r.body);
    for (const res of Object.values(r.responses)) if (res.schema) responseSchemas.add(res.schema);
  }
  for (const n of schemas.nestedComponents) responseSchemas.add(n);
  const missing = [...requestSchemas, ...responseSchemas].filter((s) => !names.has(s));
  if (missing.length) throw new Error('every request and response schema must be exported from api-schemas.ts');
  // A schema used both ways is rendered once per direction under distinct names.
  const reqNames = new Map([...requestSchemas].map((s) => [s, responseSchemas.has(s) ? `${names.get(s)}Input` : names.get(s)!]));

  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      const type = res.contentType ?? 'application/json';
      const schema = res.schema
        ? { $ref: REF(names.get(res.schema)!) }
        : type === 'application/json'
          ? { type: 'object' }
          : { type: 'string' };
      responses[status] = { description: res.description, content: { [type]: { schema } } };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      security: r.scope === 'public' ? [] : [{ bearer: [] }],
      'x-jobline-scope': r.scope,
      parameters: parameters(r),
      ...(r.body
        ? { requestBody: { required: !r.bodyOptional, content: { 'application/json': { schema: { $ref: REF(reqNames.get(r.body)!) } } } } }
        : {}),
      responses,
    };
  }
  const reqList = [...requestSchemas];
  const reqComponents = components(reqList, new Map(reqList.map((s) => [s, reqNames.get(s)!])), 'input');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Jobline producer API',
      version: VERSION,
      description: 'Enqueue and inspect jobs and DAG runs. Authenticate with `Authorization: Bearer <token>` (see apps/README.md).',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { ...components([...responseSchemas], names, 'output'), ...reqComponents },
    },
  };
}
