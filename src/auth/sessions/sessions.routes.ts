import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../../accounts/accounts.schemas.ts'
import { bodyProblems } from '../../app/route-helpers.ts'
import { CreateSessionSchema, SessionSchema } from './sessions.schemas.ts'
import type { SessionService } from './sessions.service.ts'

export const sessionRoutes: FastifyPluginAsyncTypebox<{ sessions: SessionService }> = async (app, { sessions }) => {
  app.post(
    '/v1/accounts/:accountId/sessions',
    {
      config: { access: 'platform' },
      schema: {
        tags: ['sessions'],
        operationId: 'createSession',
        summary: 'Sign a user in: a token for the API and a URL that opens the settings page',
        params: AccountParamsSchema,
        body: CreateSessionSchema,
        response: { 201: Type.Ref(SessionSchema), ...bodyProblems(403, 404, 422) },
      },
    },
    async (req, reply) => reply.code(201).send(await sessions.create(req.ctx(), req.params.accountId, req.body.userId)),
  )
}
