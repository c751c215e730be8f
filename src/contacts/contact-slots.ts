/**
 * The contact sheet's slots (docs/PRODUCT.md, "The contact sheet"), their names in the API, in paths and in the database.
 * `billing` is the one list; `security` is the one slot that may hold an outside email address.
 */
export const SLOT_NAMES = ['primary', 'billing', 'decisionMaker', 'onboarding', 'security', 'technicalAdmin'] as const
export type SlotName = (typeof SLOT_NAMES)[number]

/** The single-holder slots. */
export const SINGLE_SLOTS = ['primary', 'decisionMaker', 'onboarding', 'security', 'technicalAdmin'] as const
export type SingleSlot = (typeof SINGLE_SLOTS)[number]

export const MAX_BILLING_CONTACTS = 3

/** Path segments of the single-slot calls (`/contacts/decision-maker`) and the slot they name. */
export const SLOT_PATHS: Record<string, SingleSlot> = {
  primary: 'primary',
  'decision-maker': 'decisionMaker',
  onboarding: 'onboarding',
  security: 'security',
  'technical-admin': 'technicalAdmin',
}

/** Path segments of `.../contacts/rules/{slot}`: every slot, billing too. */
export const RULE_SLOT_PATHS: Record<string, SlotName> = { ...SLOT_PATHS, billing: 'billing' }
