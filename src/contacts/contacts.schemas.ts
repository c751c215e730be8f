import { type Static, Type } from '@sinclair/typebox'

import { ACCOUNT_TREE_MAX_LEVELS } from '../accounts/account-tree.ts'
import { ACCOUNT_NAME_MAX } from '../accounts/accounts.schemas.ts'
import { inWords } from '../i18n/labels.ts'
import { DateTimeSchema, EmailSchema, IdSchema, INT32_MAX, Strict } from '../lib/schemas.ts'
import { USER_NAME_MAX } from '../users/users.schemas.ts'
import { MAX_BILLING_CONTACTS, RULE_SLOT_PATHS, SLOT_NAMES } from './contact-slots.ts'
import { SLOT_RULES } from './slot-rules.ts'

/** Mail to the holder's address does not arrive: it is on the account's suppression list (docs/BOUNCES.md). */
const UndeliverableSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('hard_bounce'), Type.Literal('soft_bounce'), Type.Literal('complaint')]),
    reason: Type.String({ maxLength: 500, description: "The mail server's or the email service's reason" }),
    since: DateTimeSchema,
  },
  { description: 'Present when mail to this address bounced or was reported as spam; it gets nothing until fixed' },
)

/** A slot held by a user of the account. */
export const UserContactSchema = Type.Object({
  type: Type.Literal('user'),
  userId: IdSchema,
  email: EmailSchema,
  name: Type.String({ maxLength: USER_NAME_MAX }),
  undeliverable: Type.Optional(UndeliverableSchema),
})

/** A slot held by an outside address (security only), usable once verified. */
const EmailContactSchema = Type.Object({
  type: Type.Literal('email'),
  email: EmailSchema,
  verification: Type.Union([Type.Literal('pending'), Type.Literal('verified')]),
  undeliverable: Type.Optional(UndeliverableSchema),
})

export const ContactSchema = Type.Union([UserContactSchema, EmailContactSchema], { $id: 'Contact' })
export type Contact = Static<typeof ContactSchema>
export type UserContact = Static<typeof UserContactSchema>

const OptionalContact = Type.Union([Type.Ref(ContactSchema), Type.Null()])

export const SlotRuleSchema = Type.Union(
  SLOT_RULES.map((r) => Type.Literal(r)),
  {
    $id: 'SlotRule',
    description:
      "How the slot composes with the parent account's: inherit (own holders, else the parent's), add (both), replace (own only, even none), none (nobody)",
  },
)

const perSlot = <T extends Parameters<typeof Type.Object>[0][string]>(schema: T) =>
  Object.fromEntries(SLOT_NAMES.map((slot) => [slot, schema])) as Record<(typeof SLOT_NAMES)[number], T>

/** A holder of one of the account's ancestors that the account's rules pass down to it. */
const InheritedContactSchema = Type.Object({
  email: EmailSchema,
  name: Type.Union([Type.String({ maxLength: USER_NAME_MAX }), Type.Null()]),
  userId: Type.Union([IdSchema, Type.Null()]),
  fromAccountId: IdSchema,
  fromAccountName: Type.String({ maxLength: ACCOUNT_NAME_MAX }),
})
export type InheritedContact = Static<typeof InheritedContactSchema>

/** The most a slot can inherit: every level above adding its own (three billing contacts a level). */
const INHERITED_MAX = MAX_BILLING_CONTACTS * ACCOUNT_TREE_MAX_LEVELS

export const ContactSheetSchema = Type.Object(
  {
    primary: OptionalContact,
    billing: Type.Array(Type.Ref(ContactSchema), {
      maxItems: MAX_BILLING_CONTACTS,
      description: `At most ${inWords(MAX_BILLING_CONTACTS, 'en')}`,
    }),
    decisionMaker: OptionalContact,
    onboarding: OptionalContact,
    security: OptionalContact,
    technicalAdmin: OptionalContact,
    rules: Type.Object(perSlot(Type.Ref(SlotRuleSchema)), {
      description: 'Each slot’s rule towards the parent account',
    }),
    inherited: Type.Optional(
      Type.Object(perSlot(Type.Array(InheritedContactSchema, { maxItems: INHERITED_MAX })), {
        description:
          'Only for an account with a parent: per slot, the holders of ancestors that receive its mail as the rules say',
      }),
    ),
    contactsReviewedAt: Type.Union([DateTimeSchema, Type.Null()]),
    version: Type.Integer({
      format: 'int32',
      minimum: 1,
      maximum: INT32_MAX,
      description: 'Counts changes to the sheet; send it back as If-Match',
    }),
  },
  { $id: 'ContactSheet' },
)
export type ContactSheet = Static<typeof ContactSheetSchema>

/** In requests a slot names a user, or (security only) an email address. */
export const UserRefSchema = Strict({ userId: IdSchema }, { $id: 'UserRef' })
export const EmailRefSchema = Strict({ email: EmailSchema }, { $id: 'EmailRef' })
export const SlotInputSchema = Type.Union([Type.Ref(UserRefSchema), Type.Ref(EmailRefSchema)], { $id: 'SlotInput' })
export type SlotInput = { userId: string } | { email: string }

const NullableSlotInput = Type.Optional(Type.Union([Type.Ref(SlotInputSchema), Type.Null()]))

/** The whole sheet, as `PUT .../contacts` takes it: an absent slot is left empty. */
export const PutContactSheetSchema = Strict({
  primary: NullableSlotInput,
  // 50, not the limit, on purpose: four billing contacts are a 409 billing-contact-limit, not a 400
  billing: Type.Optional(Type.Array(Type.Ref(UserRefSchema), { maxItems: 50 })),
  decisionMaker: NullableSlotInput,
  onboarding: NullableSlotInput,
  security: NullableSlotInput,
  technicalAdmin: NullableSlotInput,
  rules: Type.Optional(
    Strict(Object.fromEntries(SLOT_NAMES.map((slot) => [slot, Type.Optional(Type.Ref(SlotRuleSchema))])), {
      description: 'Absent: the rules stay as they are; present: a slot left out is `inherit`',
    }),
  ),
})
export type PutContactSheet = Static<typeof PutContactSheetSchema>

export const SlotParamsSchema = Strict({
  accountId: IdSchema,
  slot: Type.Union(
    ['primary', 'decision-maker', 'onboarding', 'security', 'technical-admin'].map((s) => Type.Literal(s)),
  ),
})
/** The path segment of each slot in `.../contacts/rules/{slot}`: the single slots' and `billing`. */
export const RuleParamsSchema = Strict({
  accountId: IdSchema,
  slot: Type.Union(Object.keys(RULE_SLOT_PATHS).map((s) => Type.Literal(s))),
})
export const SetSlotRuleSchema = Strict({ rule: Type.Ref(SlotRuleSchema) })
export const BillingParamsSchema = Strict({ accountId: IdSchema, userId: IdSchema })

export const IfMatchHeadersSchema = Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 200 })) })
