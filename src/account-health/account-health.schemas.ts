import { type Static, Type } from '@sinclair/typebox'

import { IdSchema } from '../lib/schemas.ts'

export const HEALTH_PROBLEMS = [
  'no-primary-contact',
  'no-billing-contact',
  'security-contact-unverified',
  'review-overdue',
  'undeliverable-notifications',
] as const
export type HealthProblemCode = (typeof HEALTH_PROBLEMS)[number]

export const AccountHealthSchema = Type.Object(
  {
    accountId: IdSchema,
    ok: Type.Boolean(),
    problems: Type.Array(
      Type.Object({
        code: Type.Union(HEALTH_PROBLEMS.map((c) => Type.Literal(c))),
        message: Type.String({ maxLength: 500 }),
      }),
      { maxItems: HEALTH_PROBLEMS.length, description: 'Each problem at most once' },
    ),
  },
  { $id: 'AccountHealth' },
)
export type AccountHealth = Static<typeof AccountHealthSchema>
