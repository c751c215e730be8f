import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { problems } from '../app/route-helpers.ts'
import { SuppressionListSchema, SuppressionParamsSchema } from './suppressions.schemas.ts'
import type { SuppressionService } from './suppressions.service.ts'

const tags = ['bounces']

export const suppressionRoutes: FastifyPluginAsyncTypebox<{ suppressions: SuppressionService }> = async (
  app,
  { suppressions },
) => {
  app.get(
    '/v1/accounts/:accountId/suppressions',
    {
      config: { access: 'account:read' },
      schema: {
        tags,
        operationId: 'listSuppressions',
        summary: 'Addresses that get none of the account’s mail, because mail to them bounced or was reported as spam',
        params: AccountParamsSchema,
        response: { 200: SuppressionListSchema, ...problems(400, 403, 404) },
      },
    },
    async (req) => suppressions.list(req.params.accountId),
  )

  app.delete(
    '/v1/accounts/:accountId/suppressions/:email',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'clearSuppression',
        summary: 'Let mail go to this address again (an outside security address must verify itself again)',
        params: SuppressionParamsSchema,
        response: { 204: Type.Null(), ...problems(400, 403, 404) },
      },
    },
    async (req, reply) => {
      await suppressions.clear(req.ctx(), req.params.accountId, req.params.email)
      return reply.code(204).send(null)
    },
  )
}
