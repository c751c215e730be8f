import { Type, type Static } from '@sinclair/typebox'
import { DateTimeSchema, LineSchema, Strict } from '../lib/schemas.ts'
import { EVENT_TYPES } from './events.ts'

const EventTypeSchema = Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)))

export const WebhookEndpointSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    eventTypes: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: every event type' }),
    status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
    disabledReason: Type.Union([Type.String(), Type.Null()]),
    createdAt: DateTimeSchema,
  },
  { $id: 'WebhookEndpoint' },
)
export type WebhookEndpoint = Static<typeof WebhookEndpointSchema>

export const CreatedWebhookEndpointSchema = Type.Intersect(
  [Type.Ref(WebhookEndpointSchema), Type.Object({ secret: Type.String({ description: '`whsec_...`, shown only here: store it to verify signatures' }) })],
  { $id: 'CreatedWebhookEndpoint' },
)

export const CreateWebhookEndpointSchema = Strict({
  // no white space and no control character: WHATWG URL parsing drops trailing ones, so only this keeps a NUL out of the row
  url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://[^\\s\\u0000-\\u001f\\u007f]+$' }),
  description: Type.Optional(LineSchema({ maxLength: 200 })),
  eventTypes: Type.Optional(Type.Array(EventTypeSchema, { minItems: 1, uniqueItems: true })),
})
export type CreateWebhookEndpoint = Static<typeof CreateWebhookEndpointSchema>

export const WebhookEndpointParamsSchema = Strict({ endpointId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })
