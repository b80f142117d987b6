import { Definition, DefinitionCreate, DefinitionList, DefinitionRefParams, ListDefinitionsQuery } from '../api-schemas.js';
import { defineRoute } from '../http/router.js';
import type { ProducerState } from '../state.js';
import { errors } from './common.js';

export function definitionRoutes(st: ProducerState) {
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/definitions',
      operationId: 'createDefinition',
      tag: 'definitions',
      summary: 'Register a job definition (handler, process or container executor)',
      description:
        'Without `version`, creates the next version — or returns the latest unchanged (200) when it is identical, so deploy scripts can register on every start. ' +
        'An explicit version that exists is a 409: versions are immutable.',
      scope: 'admin',
      body: DefinitionCreate,
      responses: {
        201: { description: 'Created', schema: Definition },
        200: { description: 'Identical to the latest version, which is returned', schema: Definition },
        ...errors(400, 401, 403, 409, 413, 415),
      },
      async handle(_ctx, { body }) {
        const r = await st.jl.createDefinition(body);
        const d = r.definition;
        return {
          status: r.created ? 201 : 200,
          body: d,
          headers: { location: `/v1/definitions/${encodeURIComponent(d.name)}@${d.version}` },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/definitions',
      operationId: 'listDefinitions',
      tag: 'definitions',
      summary: 'The latest version of every definition, or every version of one (?name=)',
      scope: 'read',
      query: ListDefinitionsQuery,
      responses: { 200: { description: 'Definitions', schema: DefinitionList }, ...errors(400, 401, 403) },
      async handle(_ctx, { query }) {
        return { status: 200, body: { definitions: await st.jl.listDefinitions(query) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/definitions/:ref',
      operationId: 'getDefinition',
      tag: 'definitions',
      summary: 'A definition by name (latest version) or name@version',
      scope: 'read',
      params: DefinitionRefParams,
      responses: { 200: { description: 'The definition', schema: Definition }, ...errors(400, 401, 403, 404) },
      async handle(_ctx, { params }) {
        return { status: 200, body: await st.jl.getDefinition(params.ref) };
      },
    }),
  ];
}
