import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { problems, publicProblems } from '../app/route-helpers.ts'
import { SLOT_NAMES } from '../contacts/contact-slots.ts'
import {
  CategorySchema,
  RecipientsPreviewSchema,
  RoutingPreviewSchema,
} from '../notifications/notifications.schemas.ts'
import type { NotificationService } from '../notifications/notifications.service.ts'
import { SENDABLE_CATEGORIES } from './routing-policy.ts'

/** A rule's slots as the policy file names them (routing-policy.ts), each at most once. */
const SlotNames = Type.Array(Type.String({ maxLength: 32 }), { maxItems: SLOT_NAMES.length })

const CategoriesSchema = Type.Object(
  {
    data: Type.Array(
      Type.Object({
        category: Type.Ref(CategorySchema),
        to: SlotNames,
        fallback: Type.Union([SlotNames, Type.Null()]),
        description: Type.Optional(Type.String({ maxLength: 500 })),
      }),
      { maxItems: SENDABLE_CATEGORIES.length },
    ),
  },
  { $id: 'Categories' },
)

export const routingRoutes: FastifyPluginAsyncTypebox<{ notifications: NotificationService }> = async (
  app,
  { notifications },
) => {
  app.get(
    '/v1/categories',
    {
      config: { access: 'public' },
      schema: {
        tags: ['routing'],
        operationId: 'listCategories',
        summary: 'The routing policy: which slots receive each category, and the fallback',
        description:
          "When a category reaches nobody through its slots and fallback, it goes to the account's super admins.",
        security: [],
        response: { 200: CategoriesSchema, ...publicProblems() },
      },
    },
    async () => ({ data: SENDABLE_CATEGORIES.map((category) => ({ category, ...notifications.policy[category] })) }),
  )

  app.get(
    '/v1/accounts/:accountId/recipients',
    {
      config: { access: 'account:read' },
      schema: {
        tags: ['routing'],
        operationId: 'previewRecipients',
        summary: 'Who receives a category in this account now, and why',
        params: AccountParamsSchema,
        querystring: Type.Object({ category: Type.Ref(CategorySchema) }, { additionalProperties: false }),
        response: { 200: Type.Ref(RecipientsPreviewSchema), ...problems(400, 404) },
      },
    },
    async (req) => notifications.preview(req.params.accountId, req.query.category),
  )

  app.get(
    '/v1/accounts/:accountId/routing',
    {
      config: { access: 'account:read' },
      schema: {
        tags: ['routing'],
        operationId: 'previewRouting',
        summary: 'Who receives each category in this account now, and why: every category in one answer',
        description:
          'The previews of `GET …/recipients?category=` for every category, in the order of `/v1/categories`, read in one statement.',
        params: AccountParamsSchema,
        response: { 200: Type.Ref(RoutingPreviewSchema), ...problems(400, 404) },
      },
    },
    async (req) => notifications.previewAll(req.params.accountId),
  )
}
