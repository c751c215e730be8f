import { type Static, Type } from '@sinclair/typebox'

import { ACCOUNT_TREE_MAX_LEVELS } from '../accounts/account-tree.ts'
import { ACCOUNT_NAME_MAX } from '../accounts/accounts.schemas.ts'
import { SLOT_NAMES } from '../contacts/contact-slots.ts'
import { SlotRuleSchema } from '../contacts/contacts.schemas.ts'
import {
  DateTimeSchema,
  EmailSchema,
  IdSchema,
  INT32_MAX,
  LineSchema,
  PageSchema,
  Strict,
  TextSchema,
} from '../lib/schemas.ts'
import { SENDABLE_CATEGORIES } from '../routing/routing-policy.ts'
import { USER_NAME_MAX } from '../users/users.schemas.ts'

/** The longest subject a notification takes. */
export const SUBJECT_MAX = 300
export const TEXT_MAX = 100_000
export const HTML_MAX = 500_000
/** See `Recipients`. */
const RECIPIENTS_MAX = 10_000

export const CategorySchema = Type.Union(
  SENDABLE_CATEGORIES.map((c) => Type.Literal(c)),
  { $id: 'Category' },
)

export const RecipientSchema = Type.Object(
  {
    email: EmailSchema,
    name: Type.Union([Type.String({ maxLength: USER_NAME_MAX }), Type.Null()]),
    userId: Type.Optional(Type.Union([IdSchema, Type.Null()])),
    userAccountId: Type.Optional(
      Type.String({
        pattern: IdSchema.pattern,
        maxLength: IdSchema.maxLength,
        description: 'The account `userId` is a user of, when it is not this one: a holder inherited from an ancestor',
      }),
    ),
    slots: Type.Array(Type.String({ maxLength: 32 }), {
      maxItems: SLOT_NAMES.length + 1,
      description: 'Why this person: the slots that chose them, or `super_admin` (last fallback)',
    }),
    fallbackFor: Type.Optional(
      Type.String({
        maxLength: 320,
        description:
          'Added after a bounce: the address whose mail bounced, that this recipient was sent it in place of',
      }),
    ),
    inherited: Type.Optional(
      Type.Array(
        Type.Object({
          slot: Type.String({ maxLength: 32 }),
          fromAccountId: IdSchema,
          fromAccountName: Type.String({ maxLength: ACCOUNT_NAME_MAX }),
          rule: Type.Ref(SlotRuleSchema),
        }),
        {
          // a slot once from each ancestor it is added from
          maxItems: SLOT_NAMES.length * (ACCOUNT_TREE_MAX_LEVELS - 1),
          description:
            'The slots this recipient holds in an ancestor account, and the rule that passed them down (absent: the account’s own holder)',
        },
      ),
    ),
  },
  { $id: 'Recipient' },
)

/**
 * A notification's recipients (and so its deliveries). Not a limit the service applies: the sheet
 * holds at most 8 people and the last fallback is the account's active super admins, so this is
 * the most an account with that many super admins would see.
 */
const Recipients = Type.Array(Type.Ref(RecipientSchema), { maxItems: RECIPIENTS_MAX })

/** A notification's id: ours (`ntf_…`), or derived from its broadcast's and account's (`brd_….<account>`). */
const NotificationIdSchema = Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_.-]+$' })

const Fallback = Type.Union([Type.Literal('primary'), Type.Literal('super_admins'), Type.Null()], {
  description: "How recipients were found when the category's own slots were empty",
})

export const RecipientsPreviewSchema = Type.Object(
  { category: Type.Ref(CategorySchema), recipients: Recipients, fallback: Fallback },
  { $id: 'RecipientsPreview' },
)

export const RoutingPreviewSchema = Type.Object(
  { data: Type.Array(Type.Ref(RecipientsPreviewSchema), { maxItems: 32 }) },
  { $id: 'RoutingPreview' },
)

export const SendNotificationSchema = Strict({
  category: Type.Ref(CategorySchema),
  subject: LineSchema({ maxLength: SUBJECT_MAX }),
  text: TextSchema({ minLength: 1, maxLength: TEXT_MAX }),
  html: Type.Optional(TextSchema({ maxLength: HTML_MAX })),
})
export type SendNotification = Static<typeof SendNotificationSchema>

export const TestNotificationSchema = Strict({ category: Type.Ref(CategorySchema) })

const NotificationStatusSchema = Type.Union(
  ['queued', 'sending', 'delivered', 'partially_failed', 'failed', 'undeliverable', 'cancelled'].map((s) =>
    Type.Literal(s),
  ),
)

export const SentNotificationSchema = Type.Object(
  { id: NotificationIdSchema, status: NotificationStatusSchema, fallback: Fallback, recipients: Recipients },
  { $id: 'SentNotification' },
)
export type SentNotification = Static<typeof SentNotificationSchema>

export const DeliverySchema = Type.Object(
  {
    id: Type.String({
      maxLength: 300,
      pattern: '^[A-Za-z0-9_.-]+$',
      description: "The notification's id and the recipient's",
    }),
    channel: Type.Literal('email'),
    recipient: EmailSchema,
    // cancelled: its broadcast was cancelled before it was sent; bounced: refused for good, at once
    // or by a report after it was handed over (lastError says why), and its fallback was queued
    status: Type.Union(
      ['queued', 'sending', 'retrying', 'delivered', 'failed', 'cancelled', 'bounced'].map((s) => Type.Literal(s)),
    ),
    attempts: Type.Integer({ format: 'int32', minimum: 0, maximum: INT32_MAX }),
    lastError: Type.Union([Type.String({ maxLength: 500 }), Type.Null()], {
      description: "The last failure's reason, cut at 500 characters",
    }),
    deliveredAt: Type.Union([DateTimeSchema, Type.Null()]),
    nextAttemptAt: Type.Union([DateTimeSchema, Type.Null()]),
    fallbackFor: Type.Union([Type.String({ maxLength: 300 }), Type.Null()], {
      description: 'The id of the bounced delivery this one was sent in place of',
    }),
  },
  { $id: 'Delivery' },
)

export const NotificationSchema = Type.Object(
  {
    id: NotificationIdSchema,
    category: Type.String({
      maxLength: 64,
      description: 'A sendable category, or the system mail it is (verify_email, contacts_review)',
    }),
    kind: Type.Union([Type.Literal('notification'), Type.Literal('system')]),
    subject: Type.String({ maxLength: SUBJECT_MAX }),
    isTest: Type.Boolean(),
    status: NotificationStatusSchema,
    fallback: Fallback,
    recipients: Recipients,
    broadcastId: Type.Union([IdSchema, Type.Null()]),
    createdAt: DateTimeSchema,
    deliveries: Type.Array(Type.Ref(DeliverySchema), { maxItems: RECIPIENTS_MAX, description: 'One per recipient' }),
  },
  { $id: 'Notification' },
)
export type Notification = Static<typeof NotificationSchema>

export const NotificationPageSchema = PageSchema(NotificationSchema)

export const NotificationParamsSchema = Strict({
  accountId: IdSchema,
  notificationId: NotificationIdSchema,
})

export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' })),
})
