import { defineRoute } from '../http/router.js';
import type { ProducerState } from '../state.js';
import { errors } from './common.js';
import { Balance, GroupParams, LedgerPage, LedgerQueryParams, QuotaSet, TopUpBody } from '../schemas/quotas.js';

/**
 * Quotas (issue 15): a group's (tenant's) wallet and usage ledger. Reading needs `read`; setting a
 * quota, topping it up or deleting it moves money-like units, so it needs `admin`. Group keys are free text:
 * percent-encode them in the path.
 */
export function quotaRoutes(st: ProducerState) {
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/groups/:group/quota',
      operationId: 'setQuota',
      tag: 'quotas',
      summary: "Create or replace a group's wallet (unit and balance)",
      description: "The ledger records the change as a `set` entry. A balance of 0 holds the group's jobs; a positive one releases them.",
      scope: 'admin',
      params: GroupParams,
      body: QuotaSet,
      responses: { 200: { description: 'The wallet after the change', schema: Balance }, ...errors(400, 401, 403, 413, 415) },
      async handle(_ctx, { params, body }) {
        return { status: 200, body: await st.jl.setQuota(params.group, body) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/groups/:group/quota/top-up',
      operationId: 'topUpQuota',
      tag: 'quotas',
      summary: "Add units to a group's wallet",
      description:
        "A top-up that makes the balance positive releases the group's held jobs (event dev.jobline.group.released). 404 when the group has no wallet.",
      scope: 'admin',
      params: GroupParams,
      body: TopUpBody,
      responses: { 200: { description: 'The wallet after the top-up', schema: Balance }, ...errors(400, 401, 403, 404, 413, 415) },
      async handle(_ctx, { params, body }) {
        return { status: 200, body: await st.jl.topUp(params.group, body.amount, { note: body.note }) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/groups/:group/quota',
      operationId: 'deleteQuota',
      tag: 'quotas',
      summary: "Delete a group's wallet (its ledger stays)",
      description:
        'The group is no longer metered; if it was held, its jobs are released at once (event dev.jobline.group.released) — held jobs stayed available, none is lost. The ledger stays, closed by a `deleted` entry (GET .../ledger still reads it). 404 when the group has no wallet.',
      scope: 'admin',
      params: GroupParams,
      responses: { 200: { description: 'The wallet as it was, now deleted', schema: Balance }, ...errors(400, 401, 403, 404) },
      async handle(_ctx, { params }) {
        return { status: 200, body: await st.jl.deleteQuota(params.group) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/groups/:group/quota',
      operationId: 'getBalance',
      tag: 'quotas',
      summary: "A group's wallet: unit, balance and whether its jobs are held",
      scope: 'read',
      params: GroupParams,
      responses: { 200: { description: 'The wallet', schema: Balance }, ...errors(400, 401, 403, 404) },
      async handle(_ctx, { params }) {
        return { status: 200, body: await st.jl.getBalance(params.group) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/groups/:group/ledger',
      operationId: 'listLedger',
      tag: 'quotas',
      summary: "A group's usage ledger, newest first (one charge per finished attempt, every top-up and set)",
      scope: 'read',
      params: GroupParams,
      query: LedgerQueryParams,
      responses: { 200: { description: 'One page of entries', schema: LedgerPage }, ...errors(400, 401, 403, 404) },
      async handle(_ctx, { params, query }) {
        return { status: 200, body: await st.jl.listLedger(params.group, query) };
      },
    }),
  ];
}
