import { Type } from '@sinclair/typebox'

import { CORRECTION_REASONS } from '../i18n/correction-text.ts'
import { DateTimeSchema, EmailSchema, IdSchema, Strict } from '../lib/schemas.ts'

const CorrectionReasonSchema = Type.Union(
  CORRECTION_REASONS.map((r) => Type.Literal(r)),
  {
    description:
      'not_me: the address is wrong; left: the person no longer works there or no longer does this; someone_else: another person should receive these',
  },
)

export const CorrectionRequestSchema = Type.Object(
  {
    id: IdSchema,
    deliveryId: Type.String({ maxLength: 300, description: 'The delivery whose link was used' }),
    notificationId: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
    category: Type.String({ maxLength: 64 }),
    subject: Type.String({ maxLength: 1000 }),
    email: Type.String({ maxLength: 320, description: 'The address the mail came to' }),
    slots: Type.Array(Type.String({ maxLength: 64 }), {
      maxItems: 10,
      description: 'The slots that chose the address for that mail (`super_admin`: none did, the last fallback)',
    }),
    reason: CorrectionReasonSchema,
    suggestedEmail: Type.Union([EmailSchema, Type.Null()], { description: 'Who the recipient says should get these' }),
    note: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
    status: Type.Union([Type.Literal('open'), Type.Literal('dismissed')]),
    createdAt: DateTimeSchema,
    dismissedAt: Type.Union([DateTimeSchema, Type.Null()]),
  },
  { $id: 'CorrectionRequest' },
)

export const CorrectionRequestListSchema = Type.Object({
  data: Type.Array(Type.Ref(CorrectionRequestSchema), { maxItems: 200 }),
})

export const CorrectionListQuerySchema = Strict({
  status: Type.Optional(
    Type.Union([Type.Literal('open'), Type.Literal('all')], { default: 'open', description: 'open (default) or all' }),
  ),
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 200, default: 50 })),
})

export const CorrectionParamsSchema = Strict({ accountId: IdSchema, requestId: IdSchema })

/** The link page's form (or the same as JSON). Empty optional fields arrive as empty strings. */
export const CorrectionFormSchema = Strict({
  token: Type.String({ minLength: 1, maxLength: 600 }),
  reason: CorrectionReasonSchema,
  suggestedEmail: Type.Optional(Type.String({ maxLength: 254 })),
  note: Type.Optional(Type.String({ maxLength: 1000 })),
})
