import { type Static, Type } from '@sinclair/typebox'

import { DateTimeSchema, IdSchema, Strict } from '../../lib/schemas.ts'

export const CreateSessionSchema = Strict({ userId: IdSchema })

export const SessionSchema = Type.Object(
  {
    token: Type.String({ maxLength: 200, description: 'A bearer token for the API, valid until expiresAt' }),
    url: Type.String({
      format: 'uri',
      maxLength: 4096,
      description: 'Opens the settings page signed in as the user (PUBLIC_URL, then the page and the token)',
    }),
    expiresAt: DateTimeSchema,
  },
  { $id: 'Session' },
)
export type Session = Static<typeof SessionSchema>
