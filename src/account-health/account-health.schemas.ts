import { type Static, Type } from '@sinclair/typebox'

import { ACCOUNT_TREE_MAX_LEVELS } from '../accounts/account-tree.ts'
import { ACCOUNT_NAME_MAX } from '../accounts/accounts.schemas.ts'
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

/** An account below the asking one in the tree, with its health: what a parent's admins manage. */
const DescendantHealthSchema = Type.Object({
  accountId: IdSchema,
  name: Type.String({ maxLength: ACCOUNT_NAME_MAX }),
  parentAccountId: IdSchema,
  depth: Type.Integer({
    format: 'int32',
    minimum: 1,
    maximum: ACCOUNT_TREE_MAX_LEVELS - 1,
    description: 'Levels below the account: 1 for a child',
  }),
  health: Type.Ref(AccountHealthSchema),
})
export type DescendantHealth = Static<typeof DescendantHealthSchema>

/** The most descendants one listing answers: far more than a group of companies or a reseller has. */
export const DESCENDANTS_MAX = 10_000

/** The account's descendants, in id order, at most {@link DESCENDANTS_MAX} (the first of them by id). */
export const DescendantsSchema = Type.Object({
  data: Type.Array(DescendantHealthSchema, { maxItems: DESCENDANTS_MAX }),
})
