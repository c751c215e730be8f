import fs from 'node:fs'

import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

import { ConfigError } from '../config/config.ts'
import { SLOT_NAMES, type SlotName } from '../contacts/contact-slots.ts'
import { SENDABLE_CATEGORIES, type SendableCategory } from './categories.ts'

export { SENDABLE_CATEGORIES, type SendableCategory }

const SlotList = Type.Array(Type.Union(SLOT_NAMES.map((s) => Type.Literal(s))), {
  minItems: 1,
  maxItems: SLOT_NAMES.length,
  uniqueItems: true,
})

/** One category's rule: the slots it goes to, and the slots to use when all of those are empty. */
export const CategoryRuleSchema = Type.Object(
  {
    to: SlotList,
    fallback: Type.Union([SlotList, Type.Null()]),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
)
export type CategoryRule = Static<typeof CategoryRuleSchema>

/** A whole policy: every sendable category must have a rule (a partial file would silently drop mail). */
const RoutingPolicySchema = Type.Object(
  Object.fromEntries(SENDABLE_CATEGORIES.map((c) => [c, CategoryRuleSchema])) as Record<
    SendableCategory,
    typeof CategoryRuleSchema
  >,
  { additionalProperties: false },
)
export type RoutingPolicy = Record<SendableCategory, CategoryRule>

const rule = (to: SlotName[], fallback: SlotName[] | null, description: string): CategoryRule => ({
  to,
  fallback,
  description,
})

/** The table of docs/PRODUCT.md, "Routing: who receives what". When the result is still empty the mail goes to the super admins. */
export const DEFAULT_POLICY: RoutingPolicy = {
  invoice: rule(['primary', 'billing'], null, 'Invoices: the primary contact and the billing contacts'),
  receipt: rule(['billing'], ['primary'], 'Receipts: the billing contacts, else the primary contact'),
  subscription: rule(['primary', 'billing'], null, 'Subscription changes: the primary and billing contacts'),
  renewal: rule(['primary', 'billing'], null, 'Renewals: the primary and billing contacts'),
  account_update: rule(['primary'], null, 'Important account notices: the primary contact'),
  security: rule(
    ['security', 'primary'],
    null,
    'Security notices: the security contact (once verified) and the primary contact',
  ),
  onboarding: rule(['onboarding'], ['primary'], 'Onboarding: the onboarding contact, else the primary contact'),
  technical: rule(
    ['technicalAdmin'],
    ['primary'],
    'Technical notices: the technical administrator, else the primary contact',
  ),
  commercial: rule(
    ['decisionMaker'],
    ['primary'],
    'Commercial offers and decisions: the decision maker, else the primary contact',
  ),
  contacts_review: rule(['primary'], null, 'Reminders to review the contacts: the primary contact'),
}

/**
 * The policy in force: the built-in table, or the JSON file `ROUTING_POLICY` names, validated at
 * start so that a typo stops the service instead of misrouting invoices.
 */
export function loadRoutingPolicy(path: string | undefined): RoutingPolicy {
  if (!path) return DEFAULT_POLICY
  let json: unknown
  try {
    json = JSON.parse(fs.readFileSync(path, 'utf8'))
  } catch (e) {
    throw new ConfigError(`ROUTING_POLICY is not valid: cannot read ${path} as JSON (${(e as Error).message})`)
  }
  const err = Value.Errors(RoutingPolicySchema, json).First()
  if (err) throw new ConfigError(`ROUTING_POLICY is not valid: ${path} at ${err.path || '/'}: ${err.message}`)
  return json as RoutingPolicy
}
