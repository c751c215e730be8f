import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { bodyProblems, problems } from '../app/route-helpers.ts'
import { PageQuerySchema } from '../lib/schemas.ts'
import {
  IdempotencyHeadersSchema,
  NotificationPageSchema,
  NotificationParamsSchema,
  NotificationSchema,
  SendNotificationSchema,
  SentNotificationSchema,
  TestNotificationSchema,
} from './notifications.schemas.ts'
import type { NotificationService } from './notifications.service.ts'

const tags = ['notifications']

export const notificationRoutes: FastifyPluginAsyncTypebox<{ notifications: NotificationService }> = async (
  app,
  { notifications },
) => {
  app.post(
    '/v1/accounts/:accountId/notifications',
    {
      config: { access: 'platform' },
      schema: {
        tags,
        operationId: 'sendNotification',
        summary: "Send a notification to the category's recipients",
        description:
          'Stored with its recipients and deliveries in one transaction and answered 202; the workers deliver it. ' +
          'With `Idempotency-Key`, the same key and body answer the first result (kept at least 24 hours).',
        params: AccountParamsSchema,
        headers: IdempotencyHeadersSchema,
        body: SendNotificationSchema,
        response: { 202: Type.Ref(SentNotificationSchema), ...bodyProblems(403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const r = await notifications.send(req.ctx(), req.params.accountId, req.body, req.headers['idempotency-key'])
      return reply.code(202).send(r.body)
    },
  )

  app.post(
    '/v1/accounts/:accountId/notifications/test',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'sendTestNotification',
        summary: "Send a test message to a category's recipients, each told why they receive it",
        params: AccountParamsSchema,
        body: TestNotificationSchema,
        response: { 202: Type.Ref(SentNotificationSchema), ...bodyProblems(403, 404) },
      },
    },
    async (req, reply) =>
      reply.code(202).send(await notifications.sendTest(req.ctx(), req.params.accountId, req.body.category)),
  )

  app.get(
    '/v1/accounts/:accountId/notifications',
    {
      config: { access: 'account:read' },
      schema: {
        tags,
        operationId: 'listNotifications',
        summary: "The account's notifications with their deliveries, newest first",
        params: AccountParamsSchema,
        querystring: PageQuerySchema,
        response: { 200: NotificationPageSchema, ...problems(400, 404) },
      },
    },
    async (req) => notifications.list(req.params.accountId, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  )

  app.get(
    '/v1/accounts/:accountId/notifications/:notificationId',
    {
      config: { access: 'account:read' },
      schema: {
        tags,
        operationId: 'getNotification',
        summary: 'One notification, each delivery with its status, attempts and last error',
        params: NotificationParamsSchema,
        response: { 200: Type.Ref(NotificationSchema), ...problems(400, 404) },
      },
    },
    async (req) => notifications.get(req.params.accountId, req.params.notificationId),
  )

  app.post(
    '/v1/accounts/:accountId/notifications/:notificationId/resend',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'resendNotification',
        summary: 'Send a notification again to whoever its category reaches now, who has not had it',
        description:
          'New holders of its slots get it; a holder whose delivery failed gets it once more; nobody gets it twice, so calling this again changes nothing. Suppressed addresses are skipped, as always. Audited (`notification.resent`) when it queues any delivery.',
        params: NotificationParamsSchema,
        response: { 202: Type.Ref(NotificationSchema), ...problems(400, 403, 404, 409) },
      },
    },
    async (req, reply) =>
      reply.code(202).send(await notifications.resend(req.ctx(), req.params.accountId, req.params.notificationId)),
  )
}
