import { Type, type Static } from '@sinclair/typebox'
import { DateTimeSchema, PageSchema } from '../lib/schemas.ts'
import { AUDIT_ACTIONS } from './audit-events.ts'

export const AuditEventSchema = Type.Object(
  {
    id: Type.String(),
    at: DateTimeSchema,
    actor: Type.Object({
      type: Type.Union([Type.Literal('api_key'), Type.Literal('user'), Type.Literal('system')]),
      id: Type.String(),
    }),
    action: Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a))),
    before: Type.Unknown(),
    after: Type.Unknown(),
    requestId: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'AuditEvent' },
)
export type AuditEvent = Static<typeof AuditEventSchema>

export const AuditEventPageSchema = PageSchema(AuditEventSchema)
