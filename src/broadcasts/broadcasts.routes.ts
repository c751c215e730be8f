import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { bodyProblems, problems } from '../app/route-helpers.ts'
import { BroadcastParamsSchema, BroadcastSchema, CreateBroadcastSchema } from './broadcasts.schemas.ts'
import type { BroadcastService } from './broadcasts.service.ts'

const tags = ['broadcasts']

export const broadcastRoutes: FastifyPluginAsyncTypebox<{ broadcasts: BroadcastService; onQueued?: () => void }> = async (app, { broadcasts, onQueued }) => {
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
}
