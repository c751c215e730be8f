import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { problems } from '../app/route-helpers.ts'
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
      config: { access: 'account:read' },
      schema: {
        tags: ['accounts'],
        operationId: 'listDescendants',
        summary: 'The accounts below this one, whose contacts its admins manage, each with its health',
        params: AccountParamsSchema,
        response: { 200: DescendantsSchema, ...problems(400, 404) },
      },
    },
    async (req) => ({ data: await health.descendants(req.params.accountId) }),
  )
}
