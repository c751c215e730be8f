import { type Static, Type } from '@sinclair/typebox'

import { DateTimeSchema, IdSchema, LineSchema, LocaleSchema, PageSchema, Strict } from '../lib/schemas.ts'

/** A domain name as `allowedEmailDomains` takes it: lower-case labels, no scheme, no `@`. */
/** The longest account name the API takes (and so the longest it answers with). */
export const ACCOUNT_NAME_MAX = 200

const DomainSchema = Type.String({
  maxLength: 253,
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$',
})

const AllowedDomainsSchema = Type.Union([Type.Array(DomainSchema, { maxItems: 50, uniqueItems: true }), Type.Null()], {
  description: 'When set, an outside (security) contact address must be in one of these domains',
})

const ParentSchema = Type.Union([IdSchema, Type.Null()], {
  description:
    'The account whose contacts this one inherits, as each slot’s rule says; null: none. Set by platform keys only. A tree has at most five levels and no cycles',
})

export const AccountSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String({ maxLength: ACCOUNT_NAME_MAX }),
    locale: LocaleSchema,
    allowedEmailDomains: AllowedDomainsSchema,
    parentAccountId: ParentSchema,
    contactsReviewedAt: Type.Union([DateTimeSchema, Type.Null()]),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
  },
  { $id: 'Account' },
)
export type Account = Static<typeof AccountSchema>

export const CreateAccountSchema = Strict({
  id: Type.Optional(IdSchema),
  name: LineSchema({ maxLength: ACCOUNT_NAME_MAX }),
  locale: Type.Optional(LocaleSchema),
  allowedEmailDomains: Type.Optional(AllowedDomainsSchema),
  parentAccountId: Type.Optional(ParentSchema),
})
export type CreateAccount = Static<typeof CreateAccountSchema>

export const UpdateAccountSchema = Strict(
  {
    name: Type.Optional(LineSchema({ maxLength: ACCOUNT_NAME_MAX })),
    locale: Type.Optional(LocaleSchema),
    allowedEmailDomains: Type.Optional(AllowedDomainsSchema),
    parentAccountId: Type.Optional(ParentSchema),
  },
  { minProperties: 1 },
)
export type UpdateAccount = Static<typeof UpdateAccountSchema>

export const AccountParamsSchema = Strict({ accountId: IdSchema })

export const AccountPageSchema = PageSchema(AccountSchema)
