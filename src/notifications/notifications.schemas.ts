import { Type, type Static } from '@sinclair/typebox'
import { SENDABLE_CATEGORIES } from '../routing/routing-policy.ts'
import { DateTimeSchema, LineSchema, PageSchema, Strict, TextSchema } from '../lib/schemas.ts'

export const CategorySchema = Type.Union(SENDABLE_CATEGORIES.map((c) => Type.Literal(c)), { $id: 'Category' })

export const RecipientSchema = Type.Object(
  {
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    userId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    slots: Type.Array(Type.String(), { description: 'Why this person: the slots that chose them, or `super_admin` (last fallback)' }),
  },
  { $id: 'Recipient' },
)

const Fallback = Type.Union([Type.Literal('primary'), Type.Literal('super_admins'), Type.Null()], {
  description: 'How recipients were found when the category\'s own slots were empty',
})

export const RecipientsPreviewSchema = Type.Object(
  { category: Type.Ref(CategorySchema), recipients: Type.Array(Type.Ref(RecipientSchema)), fallback: Fallback },
  { $id: 'RecipientsPreview' },
)

export const SendNotificationSchema = Strict({
  category: Type.Ref(CategorySchema),
  subject: LineSchema({ maxLength: 300 }),
  text: TextSchema({ minLength: 1, maxLength: 100_000 }),
  html: Type.Optional(TextSchema({ maxLength: 500_000 })),
})
export type SendNotification = Static<typeof SendNotificationSchema>

export const TestNotificationSchema = Strict({ category: Type.Ref(CategorySchema) })

export const NotificationStatusSchema = Type.Union(
  ['queued', 'sending', 'delivered', 'partially_failed', 'failed', 'undeliverable', 'cancelled'].map((s) => Type.Literal(s)),
)

export const SentNotificationSchema = Type.Object(
  { id: Type.String(), status: NotificationStatusSchema, fallback: Fallback, recipients: Type.Array(Type.Ref(RecipientSchema)) },
  { $id: 'SentNotification' },
)
export type SentNotification = Static<typeof SentNotificationSchema>

export const DeliverySchema = Type.Object(
  {
    id: Type.String(),
    channel: Type.Literal('email'),
    recipient: Type.String(),
    // cancelled: its broadcast was cancelled before it was sent
    status: Type.Union(['queued', 'sending', 'retrying', 'delivered', 'failed', 'cancelled'].map((s) => Type.Literal(s))),
    attempts: Type.Integer(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    deliveredAt: Type.Union([DateTimeSchema, Type.Null()]),
    nextAttemptAt: Type.Union([DateTimeSchema, Type.Null()]),
  },
  { $id: 'Delivery' },
)

export const NotificationSchema = Type.Object(
  {
    id: Type.String(),
    category: Type.String(),
    kind: Type.Union([Type.Literal('notification'), Type.Literal('system')]),
    subject: Type.String(),
    isTest: Type.Boolean(),
    status: NotificationStatusSchema,
    fallback: Fallback,
    recipients: Type.Array(Type.Ref(RecipientSchema)),
    broadcastId: Type.Union([Type.String(), Type.Null()]),
    createdAt: DateTimeSchema,
    deliveries: Type.Array(Type.Ref(DeliverySchema)),
  },
  { $id: 'Notification' },
)
export type Notification = Static<typeof NotificationSchema>

export const NotificationPageSchema = PageSchema(NotificationSchema)

export const NotificationParamsSchema = Strict({
  accountId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  notificationId: Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_.-]+$' }),
})

export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' })),
})
