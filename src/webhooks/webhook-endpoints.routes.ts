import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { bodyProblems, problems } from '../app/route-helpers.ts'
import {
  CreatedWebhookEndpointSchema,
  CreateWebhookEndpointSchema,
  WebhookEndpointParamsSchema,
  WebhookEndpointSchema,
} from './webhook-endpoints.schemas.ts'
import type { WebhookEndpointService } from './webhook-endpoints.service.ts'

const tags = ['webhooks']

export const webhookEndpointRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhookEndpointService }> = async (
  app,
  { webhooks },
) => {
  app.post(
    '/v1/webhook-endpoints',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'createWebhookEndpoint',
        summary: 'Register a webhook endpoint; the signing secret is in this answer only',
        description: 'Deliveries are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).',
        body: CreateWebhookEndpointSchema,
        response: { 201: Type.Ref(CreatedWebhookEndpointSchema), ...bodyProblems(403) },
      },
    },
    async (req, reply) => reply.code(201).send(await webhooks.create(req.body)),
  )

  app.get(
    '/v1/webhook-endpoints',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'listWebhookEndpoints',
        summary: 'The webhook endpoints, with their status',
        response: {
          200: Type.Object({
            // every endpoint, unpaged: not a limit the service applies, but the operator registers a handful
            data: Type.Array(Type.Ref(WebhookEndpointSchema), { maxItems: 1000 }),
          }),
          ...problems(403),
        },
      },
    },
    async () => webhooks.list(),
  )

  app.delete(
    '/v1/webhook-endpoints/:endpointId',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'deleteWebhookEndpoint',
        summary: 'Delete a webhook endpoint and its pending deliveries',
        params: WebhookEndpointParamsSchema,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(400, 403, 404) },
      },
    },
    async (req, reply) => {
      await webhooks.delete(req.params.endpointId)
      return reply.code(204).send(null)
    },
  )
}
