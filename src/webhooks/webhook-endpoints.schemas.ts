import { type Static, Type } from '@sinclair/typebox'

import { DateTimeSchema, IdSchema, LineSchema, Strict } from '../lib/schemas.ts'
import { EVENT_TYPES } from './events.ts'

/** The longest endpoint address taken, and the longest description. */
const URL_MAX = 2048
const DESCRIPTION_MAX = 200

const EventTypeSchema = Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)))

export const WebhookEndpointSchema = Type.Object(
  {
    id: IdSchema,
    url: Type.String({ maxLength: URL_MAX }),
    description: Type.Union([Type.String({ maxLength: DESCRIPTION_MAX }), Type.Null()]),
    eventTypes: Type.Union(
      [Type.Array(Type.String({ maxLength: 64 }), { maxItems: EVENT_TYPES.length }), Type.Null()],
      { description: 'null: every event type' },
    ),
    status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
    disabledReason: Type.Union([Type.String({ maxLength: 500 }), Type.Null()], {
      description: 'Why deliveries stopped (the endpoint answered 410 Gone)',
    }),
    createdAt: DateTimeSchema,
  },
  { $id: 'WebhookEndpoint' },
)
export type WebhookEndpoint = Static<typeof WebhookEndpointSchema>

export const CreatedWebhookEndpointSchema = Type.Intersect(
  [
    Type.Ref(WebhookEndpointSchema),
    Type.Object({
      secret: Type.String({
        maxLength: 200,
        pattern: '^whsec_',
        description: '`whsec_...`, shown only here: store it to verify signatures',
      }),
    }),
  ],
  { $id: 'CreatedWebhookEndpoint' },
)

export const CreateWebhookEndpointSchema = Strict({
  // no white space and no control character: WHATWG URL parsing drops trailing ones, so only this keeps a NUL out of the row
  url: Type.String({ minLength: 8, maxLength: URL_MAX, pattern: '^https?://[^\\s\\u0000-\\u001f\\u007f]+$' }),
  description: Type.Optional(LineSchema({ maxLength: DESCRIPTION_MAX })),
  // each event type at most once, so the list is never longer than the catalogue
  eventTypes: Type.Optional(
    Type.Array(EventTypeSchema, { minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true }),
  ),
})
export type CreateWebhookEndpoint = Static<typeof CreateWebhookEndpointSchema>

export const WebhookEndpointParamsSchema = Strict({ endpointId: IdSchema })
