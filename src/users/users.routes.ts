import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { bodyProblems, problems } from '../app/route-helpers.ts'
import { PageQuerySchema } from '../lib/schemas.ts'
import {
  PatchUserSchema,
  PutUserSchema,
  UserPageSchema,
  UserParamsSchema,
  UserSchema,
  UserStatusSchema,
} from './users.schemas.ts'
import type { UserService } from './users.service.ts'

const tags = ['users']

const ListUsersQuerySchema = Type.Composite(
  [PageQuerySchema, Type.Object({ status: Type.Optional(UserStatusSchema) })],
  {
    additionalProperties: false,
  },
)

export const userRoutes: FastifyPluginAsyncTypebox<{ users: UserService }> = async (app, { users }) => {
  app.put(
    '/v1/accounts/:accountId/users/:userId',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'putUser',
        summary: 'Create or update a user, as the host product knows them (idempotent)',
        description:
          'Setting `status: "deactivated"` vacates every contact slot the user holds, in the same transaction.',
        params: UserParamsSchema,
        body: PutUserSchema,
        response: { 200: Type.Ref(UserSchema), 201: Type.Ref(UserSchema), ...bodyProblems(403, 404, 409) },
      },
    },
    async (req, reply) => {
      const { user, created } = await users.put(req.ctx(), req.params.accountId, req.params.userId, req.body)
      return reply.code(created ? 201 : 200).send(user)
    },
  )

  app.get(
    '/v1/accounts/:accountId/users',
    {
      config: { access: 'account:read' },
      schema: {
        tags,
        operationId: 'listUsers',
        summary: "List the account's users, in id order",
        params: AccountParamsSchema,
        querystring: ListUsersQuerySchema,
        response: { 200: UserPageSchema, ...problems(400, 404) },
      },
    },
    async (req) =>
      users.list(req.params.accountId, {
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
        status: req.query.status,
      }),
  )

  app.get(
    '/v1/accounts/:accountId/users/:userId',
    {
      config: { access: 'account:read' },
      schema: {
        tags,
        operationId: 'getUser',
        summary: 'Get a user',
        params: UserParamsSchema,
        response: { 200: Type.Ref(UserSchema), ...problems(400, 404) },
      },
    },
    async (req) => users.get(req.params.accountId, req.params.userId),
  )

  app.patch(
    '/v1/accounts/:accountId/users/:userId',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'updateUser',
        summary: 'Change a user; `status: "deactivated"` deactivates and vacates their slots',
        params: UserParamsSchema,
        body: PatchUserSchema,
        response: { 200: Type.Ref(UserSchema), ...bodyProblems(403, 404, 409) },
      },
    },
    async (req) => users.patch(req.ctx(), req.params.accountId, req.params.userId, req.body),
  )
}
