import { Type, type Static } from '@sinclair/typebox'
import { DateTimeSchema, IdSchema, Strict } from '../../lib/schemas.ts'

export const CreateSessionSchema = Strict({ userId: IdSchema })

export const SessionSchema = Type.Object(
  {
    token: Type.String({ description: 'A bearer token for the API, valid until expiresAt' }),
    url: Type.String({ description: 'Opens the settings page signed in as the user' }),
    expiresAt: DateTimeSchema,
  },
  { $id: 'Session' },
)
export type Session = Static<typeof SessionSchema>
