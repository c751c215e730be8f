import { type Static, Type } from '@sinclair/typebox'

import { DateTimeSchema, IdSchema, PageSchema } from '../lib/schemas.ts'
import { AUDIT_ACTIONS } from './audit-events.ts'

export const AuditEventSchema = Type.Object(
  {
    id: IdSchema,
    at: DateTimeSchema,
    actor: Type.Object({
      type: Type.Union([Type.Literal('api_key'), Type.Literal('user'), Type.Literal('system')]),
      id: Type.String({ maxLength: 64, description: 'The api key or user id, or the name of a system job' }),
    }),
    action: Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a))),
    before: Type.Unknown(),
    after: Type.Unknown(),
    requestId: Type.Union([Type.String({ maxLength: 100 }), Type.Null()], {
      description: "The request's X-Request-Id (ours, or the caller's when it was at most 100 safe characters)",
    }),
  },
  { $id: 'AuditEvent' },
)
export type AuditEvent = Static<typeof AuditEventSchema>

export const AuditEventPageSchema = PageSchema(AuditEventSchema)
