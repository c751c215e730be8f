import { Type, type Static } from '@sinclair/typebox'
import { DateTimeSchema, IdSchema, LineSchema, Strict, TextSchema } from '../lib/schemas.ts'
import { CategorySchema } from '../notifications/notifications.schemas.ts'

export const CreateBroadcastSchema = Strict({
  category: Type.Ref(CategorySchema),
  subject: LineSchema({ maxLength: 300 }),
  text: TextSchema({ minLength: 1, maxLength: 100_000 }),
  accountIds: Type.Optional(Type.Array(IdSchema, { minItems: 1, maxItems: 10_000, uniqueItems: true, description: 'Only these accounts; all when absent' })),
})
export type CreateBroadcast = Static<typeof CreateBroadcastSchema>

export const BroadcastSchema = Type.Object(
  {
    id: Type.String(),
    category: Type.String(),
    subject: Type.String(),
    status: Type.Union([Type.Literal('running'), Type.Literal('done')]),
    total: Type.Integer({ description: 'Accounts to reach' }),
    processed: Type.Integer({ description: 'Accounts fanned out so far' }),
    notifications: Type.Integer({ description: 'Notifications queued (one per account with recipients)' }),
    undeliverable: Type.Integer({ description: 'Accounts where nobody could receive it' }),
    progress: Type.Number({ minimum: 0, maximum: 1 }),
    createdAt: DateTimeSchema,
    finishedAt: Type.Union([DateTimeSchema, Type.Null()]),
  },
  { $id: 'Broadcast' },
)
export type Broadcast = Static<typeof BroadcastSchema>

export const BroadcastParamsSchema = Strict({ broadcastId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })
