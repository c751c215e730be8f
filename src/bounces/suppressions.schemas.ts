import { Type } from '@sinclair/typebox'

import { DateTimeSchema, EmailSchema, IdSchema, Strict } from '../lib/schemas.ts'
import { MAIL_EVENT_SOURCES } from './mail-event.ts'

export const SuppressionSchema = Type.Object(
  {
    email: EmailSchema,
    kind: Type.Union([Type.Literal('hard_bounce'), Type.Literal('soft_bounce'), Type.Literal('complaint')], {
      description:
        'hard_bounce: refused for good; soft_bounce: refused for now, too many times; complaint: reported as spam',
    }),
    reason: Type.String({ maxLength: 500 }),
    source: Type.Union(
      MAIL_EVENT_SOURCES.map((s) => Type.Literal(s)),
      { description: 'smtp: our mail server or a DSN; otherwise the email service that reported it' },
    ),
    deliveryId: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
    since: DateTimeSchema,
  },
  { $id: 'Suppression' },
)

export const SuppressionListSchema = Type.Object({
  // an account has a handful of contacts: its list is as short
  data: Type.Array(Type.Ref(SuppressionSchema), { maxItems: 10_000 }),
})

export const SuppressionParamsSchema = Strict({ accountId: IdSchema, email: EmailSchema })
