import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { problems } from '../app/route-helpers.ts'
import { SLOT_NAMES } from '../contacts/contact-slots.ts'
import { AccountHealthSchema, DescendantsSchema } from './account-health.schemas.ts'
import type { HealthService } from './account-health.service.ts'

export const healthRoutes: FastifyPluginAsyncTypebox<{ health: HealthService }> = async (app, { health }) => {
  app.get(
    '/v1/accounts/:accountId/health',
    {
      config: { access: 'account:read' },
      schema: {
        tags: ['accounts'],
        operationId: 'getAccountHealth',
        summary: "The account's contact problems",
        params: AccountParamsSchema,
        response: { 200: Type.Ref(AccountHealthSchema), ...problems(400, 404) },
      },
    },
    async (req) => health.get(req.params.accountId),
  )

  app.get(
    '/v1/accounts/:accountId/descendants',
    {
      // admins only: the health names addresses of the accounts below, which a member cannot read
      config: { access: 'account:write' },
      schema: {
        tags: ['accounts'],
        operationId: 'listDescendants',
        summary: 'The accounts below this one, whose contacts its admins manage, each with its health',
        description:
          'With `inheriting`, only the accounts whose mail of one of those slots reaches up to this one: those a change of them affects (what a `contacts.updated` event’s `affectedDescendants` counts).',
        params: AccountParamsSchema,
        querystring: Type.Object(
          {
            inheriting: Type.Optional(
              Type.Array(Type.Union(SLOT_NAMES.map((s) => Type.Literal(s))), {
                maxItems: SLOT_NAMES.length,
                uniqueItems: true,
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: DescendantsSchema, ...problems(400, 403, 404) },
      },
    },
    async (req) => ({ data: await health.descendants(req.params.accountId, req.query.inheriting) }),
  )
}
