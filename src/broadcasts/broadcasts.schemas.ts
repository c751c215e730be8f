import { type Static, Type } from '@sinclair/typebox'

import { DateTimeSchema, IdSchema, INT32_MAX, LineSchema, Strict, TextSchema } from '../lib/schemas.ts'
import { CategorySchema, HTML_MAX, SUBJECT_MAX, TEXT_MAX } from '../notifications/notifications.schemas.ts'

/** A count the database keeps in an `integer` column. */
const Count = (description: string) => Type.Integer({ format: 'int32', minimum: 0, maximum: INT32_MAX, description })

export const CreateBroadcastSchema = Strict({
  category: Type.Ref(CategorySchema),
  subject: LineSchema({ maxLength: SUBJECT_MAX }),
  text: TextSchema({ minLength: 1, maxLength: TEXT_MAX }),
  html: Type.Optional(TextSchema({ maxLength: HTML_MAX })),
  accountIds: Type.Optional(
    Type.Array(IdSchema, {
      minItems: 1,
      maxItems: 10_000,
      uniqueItems: true,
      description: 'Only these accounts; all when absent',
    }),
  ),
})
export type CreateBroadcast = Static<typeof CreateBroadcastSchema>

const BroadcastStatusSchema = Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('cancelled')], {
  description:
    'running: being fanned out; done: every account fanned out; cancelled: stopped by POST /v1/broadcasts/{broadcastId}/cancel',
})

export const BroadcastSchema = Type.Object(
  {
    id: IdSchema,
    category: Type.String({ maxLength: 64 }),
    subject: Type.String({ maxLength: SUBJECT_MAX }),
    status: BroadcastStatusSchema,
    total: Count('Accounts to reach'),
    processed: Count('Accounts fanned out so far'),
    notifications: Count('Notifications queued (one per account with recipients)'),
    undeliverable: Count('Accounts where nobody could receive it'),
    cancelledDeliveries: Count('Mails the cancel stopped before they were sent'),
    progress: Type.Number({ minimum: 0, maximum: 1 }),
    createdAt: DateTimeSchema,
    finishedAt: Type.Union([DateTimeSchema, Type.Null()], {
      description: 'When the fan-out ended: done, or cancelled while running',
    }),
    cancelledAt: Type.Union([DateTimeSchema, Type.Null()]),
  },
  { $id: 'Broadcast' },
)
export type Broadcast = Static<typeof BroadcastSchema>

export const BroadcastParamsSchema = Strict({ broadcastId: IdSchema })
