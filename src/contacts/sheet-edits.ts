import { AppError } from '../lib/errors.ts'
import { holdsAddress } from './contact-notices.ts'
import { MAX_BILLING_CONTACTS, SINGLE_SLOTS, type SingleSlot, type SlotName } from './contact-slots.ts'
import type { Contact, PutContactSheet, SlotInput } from './contacts.schemas.ts'
import { type Edit, type Named, rulesOf, type SheetData, type SheetState } from './sheet.ts'
import type { SlotRule } from './slot-rules.ts'

/** The user ids and addresses some inputs name. */
export function namedBy(inputs: Named): { ids: string[]; emails: string[] } {
  const ids = inputs.flatMap((i) => (i && 'userId' in i ? [i.userId] : []))
  const emails = inputs.flatMap((i) => (i && 'email' in i ? [i.email] : []))
  return { ids, emails }
}

/** The inputs of a whole-sheet replacement. */
export const sheetInputs = (input: PutContactSheet): Named => [
  ...(input.billing ?? []),
  ...SINGLE_SLOTS.map((slot) => input[slot]),
]

/** The contact the input names for `slot`, or the problem that forbids it. */
function resolveContact(data: SheetData, slot: SingleSlot | 'billing', input: SlotInput, current: SheetState): Contact {
  const { account, users } = data
  if ('userId' in input) {
    const user = users.find((u) => u.id === input.userId)
    if (!user) {
      throw new AppError('user-not-in-account', { detail: `"${input.userId}" is not a user of this account.` })
    }
    if (user.status !== 'active') {
      throw new AppError('user-not-active', { detail: `${user.name} is deactivated and cannot be a contact.` })
    }
    return { type: 'user', userId: user.id, email: user.email, name: user.name }
  }
  if (slot !== 'security') {
    throw new AppError('external-email-not-allowed', {
      detail: 'Only the security contact may be an email address; choose a user for this contact.',
    })
  }
  // An address that belongs to an active user is stored as that user (docs/PRODUCT.md, "Outside security addresses").
  const user = users.find((u) => u.status === 'active' && u.email.toLowerCase() === input.email.toLowerCase())
  if (user) return { type: 'user', userId: user.id, email: user.email, name: user.name }
  const email = input.email.trim()
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase()
  if (account.allowed_email_domains && !account.allowed_email_domains.includes(domain)) {
    throw new AppError('email-domain-not-allowed', {
      detail: `The address must be in ${account.allowed_email_domains.join(', ')}.`,
    })
  }
  // Typing the same outside address again keeps its verification.
  const prev = current.security
  if (prev?.type === 'email' && prev.email.toLowerCase() === email.toLowerCase()) return prev
  return { type: 'email', email, verification: 'pending' }
}

/** The whole sheet replaced by `input`: an absent slot is left empty. */
export const replaced =
  (input: PutContactSheet): Edit =>
  (current, data) => {
    const billing = input.billing ?? []
    if (billing.length > MAX_BILLING_CONTACTS) {
      throw new AppError('billing-contact-limit', {
        detail: `${billing.length} billing contacts were sent; an account has at most ${MAX_BILLING_CONTACTS}.`,
      })
    }
    // no `rules`: they stay; `rules`: the whole set, a slot left out inheriting
    const rules = input.rules ? rulesOf(input.rules) : current.rules
    const next: SheetState = { ...current, rules, billing: [] }
    for (const [i, ref] of billing.entries()) {
      if (billing.findIndex((b) => b.userId === ref.userId) !== i) {
        throw new AppError('duplicate-contact', {
          detail: `"${ref.userId}" is listed twice among the billing contacts.`,
        })
      }
      next.billing.push(resolveContact(data, 'billing', ref, current))
    }
    for (const slot of SINGLE_SLOTS) {
      const ref = input[slot]
      next[slot] = ref ? resolveContact(data, slot, ref, current) : null
    }
    return next
  }

export const ruleSet =
  (slot: SlotName, rule: SlotRule): Edit =>
  (state) => ({ ...state, rules: { ...state.rules, [slot]: rule } })

export const slotSet =
  (slot: SingleSlot, input: SlotInput): Edit =>
  (state, data) => ({ ...state, [slot]: resolveContact(data, slot, input, state) })

export const slotCleared =
  (slot: SingleSlot): Edit =>
  (state) => ({ ...state, [slot]: null })

const holds = (userId: string) => (c: Contact | null) => c?.type === 'user' && c.userId === userId

export const billingAdded =
  (userId: string): Edit =>
  (state, data) => {
    if (state.billing.some(holds(userId))) {
      throw new AppError('duplicate-contact', { detail: 'This user is already a billing contact.' })
    }
    if (state.billing.length >= MAX_BILLING_CONTACTS) {
      throw new AppError('billing-contact-limit', {
        detail: `The account has ${MAX_BILLING_CONTACTS} billing contacts; remove one before adding another.`,
      })
    }
    return { ...state, billing: [...state.billing, resolveContact(data, 'billing', { userId }, state)] }
  }

export const billingRemoved =
  (userId: string): Edit =>
  (state) => {
    const billing = state.billing.filter((c) => !holds(userId)(c))
    if (billing.length === state.billing.length) {
      throw new AppError('not-found', { detail: `"${userId}" is not a billing contact of this account.` })
    }
    return { ...state, billing }
  }

/** Another user in the billing place `userId` holds, the order kept. */
export const billingReplaced =
  (userId: string, by: string): Edit =>
  (state, data) => {
    const at = state.billing.findIndex(holds(userId))
    if (at < 0) throw new AppError('not-found', { detail: `"${userId}" is not a billing contact of this account.` })
    if (by !== userId && state.billing.some(holds(by))) {
      throw new AppError('duplicate-contact', { detail: 'This user is already a billing contact.' })
    }
    const billing = [...state.billing]
    billing[at] = resolveContact(data, 'billing', { userId: by }, state)
    return { ...state, billing }
  }

/** Every slot the user holds emptied (their deactivation). */
export const userVacated =
  (userId: string): Edit =>
  (state) => {
    const gone = holds(userId)
    return {
      ...state,
      primary: gone(state.primary) ? null : state.primary,
      billing: state.billing.filter((c) => !gone(c)),
      decisionMaker: gone(state.decisionMaker) ? null : state.decisionMaker,
      onboarding: gone(state.onboarding) ? null : state.onboarding,
      security: gone(state.security) ? null : state.security,
      technicalAdmin: gone(state.technicalAdmin) ? null : state.technicalAdmin,
    }
  }

/**
 * The security slot's outside address `email` marked verified. The slot may hold another address
 * by now (it was replaced since the mail went out): then nothing changes.
 */
/** The outside address must prove itself again (its suppression was cleared): pending, and a new link goes out. */
export const securityUnverified =
  (email: string): Edit =>
  (state) =>
    holdsAddress(state.security, email) ? { ...state, security: { ...state.security, verification: 'pending' } } : state

export const securityVerified =
  (email: string): Edit =>
  (state) =>
    holdsAddress(state.security, email)
      ? { ...state, security: { ...state.security, verification: 'verified' } }
      : state
