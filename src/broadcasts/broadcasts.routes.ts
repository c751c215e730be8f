import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { bodyProblems, problems } from '../app/route-helpers.ts'
import { BroadcastParamsSchema, BroadcastSchema, CreateBroadcastSchema } from './broadcasts.schemas.ts'
import type { BroadcastService } from './broadcasts.service.ts'

const tags = ['broadcasts']

export const broadcastRoutes: FastifyPluginAsyncTypebox<{
  broadcasts: BroadcastService
  onQueued?: () => void
}> = async (app, { broadcasts, onQueued }) => {
  app.post(
    '/v1/broadcasts',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'createBroadcast',
        summary: 'Send a category to every account (or the listed ones); follow its progress with GET',
        body: CreateBroadcastSchema,
        response: { 202: Type.Ref(BroadcastSchema), ...bodyProblems(403) },
      },
    },
    async (req, reply) => {
      const b = await broadcasts.create(req.ctx(), req.body)
      onQueued?.()
      return reply.code(202).send(b)
    },
  )

  app.get(
    '/v1/broadcasts/:broadcastId',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'getBroadcast',
        summary: "A broadcast's progress",
        params: BroadcastParamsSchema,
        response: { 200: Type.Ref(BroadcastSchema), ...problems(400, 403, 404) },
      },
    },
    async (req) => broadcasts.get(req.params.broadcastId),
  )

  app.post(
    '/v1/broadcasts/:broadcastId/cancel',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'cancelBroadcast',
        summary: 'Stop a broadcast: no more accounts are fanned out, and its mail not yet sent is cancelled',
        description:
          'Answers 200 with the broadcast as it now is. Idempotent: a broadcast cancelled already, or done with all its mail sent, ' +
          'is answered unchanged (check `status`). A done broadcast whose mail is still going out is cancelled too.',
        params: BroadcastParamsSchema,
        response: { 200: Type.Ref(BroadcastSchema), ...problems(400, 403, 404) },
      },
    },
    async (req) => broadcasts.cancel(req.ctx(), req.params.broadcastId),
  )
}
