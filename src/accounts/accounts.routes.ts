import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { bodyProblems, problems } from '../app/route-helpers.ts'
import { PageQuerySchema } from '../lib/schemas.ts'
import {
  AccountPageSchema,
  AccountParamsSchema,
  AccountSchema,
  CreateAccountSchema,
  UpdateAccountSchema,
} from './accounts.schemas.ts'
import type { AccountService } from './accounts.service.ts'

const tags = ['accounts']

export const accountRoutes: FastifyPluginAsyncTypebox<{ accounts: AccountService }> = async (app, { accounts }) => {
  app.post(
    '/v1/accounts',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'createAccount',
        summary: 'Create an account, optionally below a parent account',
        body: CreateAccountSchema,
        response: { 201: Type.Ref(AccountSchema), ...bodyProblems(403, 409, 422) },
      },
    },
    async (req, reply) => reply.code(201).send(await accounts.create(req.ctx(), req.body)),
  )

  app.get(
    '/v1/accounts',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'listAccounts',
        summary: 'List accounts, in id order',
        querystring: PageQuerySchema,
        response: { 200: AccountPageSchema, ...problems(400, 403) },
      },
    },
    async (req) => accounts.list({ limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  )

  app.get(
    '/v1/accounts/:accountId',
    {
      config: { access: 'account:read' },
      schema: {
        tags,
        operationId: 'getAccount',
        summary: 'Get an account',
        params: AccountParamsSchema,
        response: { 200: Type.Ref(AccountSchema), ...problems(400, 404) },
      },
    },
    async (req) => accounts.get(req.params.accountId),
  )

  app.patch(
    '/v1/accounts/:accountId',
    {
      config: { access: 'account:super' },
      schema: {
        tags,
        operationId: 'updateAccount',
        summary: "Change an account's name, locale or allowed email domains, or (platform keys) its parent",
        params: AccountParamsSchema,
        body: UpdateAccountSchema,
        response: { 200: Type.Ref(AccountSchema), ...bodyProblems(403, 404, 409, 422) },
      },
    },
    async (req) => accounts.update(req.ctx(), req.params.accountId, req.body),
  )

  app.delete(
    '/v1/accounts/:accountId',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'deleteAccount',
        summary:
          'Delete an account with its users, contacts and history (not while it is the parent of other accounts)',
        params: AccountParamsSchema,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(400, 403, 404, 409) },
      },
    },
    async (req, reply) => {
      await accounts.delete(req.params.accountId)
      return reply.code(204).send(null)
    },
  )
}
