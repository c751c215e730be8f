import type { ContactSheet, SingleSlot } from './api/types.ts'

/**
 * The id of the select that edits each single slot. The slot components give their selects these
 * ids, and the correction banner's "Go to" finds them by it.
 */
export const SLOT_FIELD_IDS: Record<SingleSlot, string> = {
  primary: 'primary',
  decisionMaker: 'decision-maker',
  onboarding: 'onboarding',
  security: 'security',
  technicalAdmin: 'technical-admin',
}

/** The text field of an outside security address (the security slot's other editor). */
export const SECURITY_EMAIL_FIELD_ID = 'security-email'

/** The select of the billing place `i` (from 0). */
export const billingFieldId = (i: number) => `billing-${i}`

/**
 * Where to put focus to change the slot a mail to `email` came through, best first: its field
 * (for billing, the place that holds the address), else the section's heading, which is what is
 * left for a member, whose selects are disabled. Undefined for a role the page does not edit
 * (`super_admin`: the last fallback).
 */
export function slotTargets(slot: string, sheet: ContactSheet, email: string): string[] | undefined {
  if (slot === 'billing') {
    const i = sheet.billing.findIndex((c) => c.email.toLowerCase() === email.toLowerCase())
    return [billingFieldId(Math.max(i, 0)), 'billing-new', 'billing-section-title']
  }
  if (!(slot in SLOT_FIELD_IDS)) return undefined
  const id = SLOT_FIELD_IDS[slot as SingleSlot]
  if (slot === 'primary') return [id, 'primary-section-title']
  // an outside security address is edited in a text field of its own
  return slot === 'security' ? [id, SECURITY_EMAIL_FIELD_ID, 'other-section-title'] : [id, 'other-section-title']
}
