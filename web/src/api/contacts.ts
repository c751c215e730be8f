import { type ApiResponse, call, request } from './client.ts'
import type { ContactSheet, SingleSlot, SlotInput, SlotName, SlotRule, UserPage } from './types.ts'

/** Path segments of the single-slot calls (docs/PRODUCT.md, "The contact sheet"). */
const SLOT_PATH: Record<SingleSlot, string> = {
  primary: 'primary',
  decisionMaker: 'decision-maker',
  onboarding: 'onboarding',
  security: 'security',
  technicalAdmin: 'technical-admin',
}

/** Path segments of `.../contacts/rules/{slot}`: the single slots' and billing's. */
const RULE_PATH: Record<SlotName, string> = { ...SLOT_PATH, billing: 'billing' }

const base = (accountId: string) => `/v1/accounts/${encodeURIComponent(accountId)}`
const contacts = (accountId: string) => `${base(accountId)}/contacts`

/** Every write answers the whole new sheet with its ETag; `ifMatch` is the ETag it was based on. */
export type SheetAnswer = ApiResponse<ContactSheet>

export const getSheet = (accountId: string): Promise<SheetAnswer> => request<ContactSheet>(contacts(accountId))

export const setSlot = (
  accountId: string,
  slot: SingleSlot,
  input: SlotInput,
  ifMatch?: string,
): Promise<SheetAnswer> =>
  request<ContactSheet>(`${contacts(accountId)}/${SLOT_PATH[slot]}`, { method: 'PUT', body: input, ifMatch })

export const clearSlot = (accountId: string, slot: SingleSlot, ifMatch?: string): Promise<SheetAnswer> =>
  request<ContactSheet>(`${contacts(accountId)}/${SLOT_PATH[slot]}`, { method: 'DELETE', ifMatch })

/** Sets how one slot composes with the parent account's (docs/PRODUCT.md); answers the sheet. */
export const setSlotRule = (
  accountId: string,
  slot: SlotName,
  rule: SlotRule,
  ifMatch?: string,
): Promise<SheetAnswer> =>
  request<ContactSheet>(`${contacts(accountId)}/rules/${RULE_PATH[slot]}`, { method: 'PUT', body: { rule }, ifMatch })

export const addBilling = (accountId: string, userId: string, ifMatch?: string): Promise<SheetAnswer> =>
  request<ContactSheet>(`${contacts(accountId)}/billing`, { method: 'POST', body: { userId }, ifMatch })

export const removeBilling = (accountId: string, userId: string, ifMatch?: string): Promise<SheetAnswer> =>
  request<ContactSheet>(`${contacts(accountId)}/billing/${encodeURIComponent(userId)}`, { method: 'DELETE', ifMatch })

/** Puts another user in the billing place `userId` holds, keeping the order (one change). */
export const replaceBilling = (accountId: string, userId: string, by: string, ifMatch?: string): Promise<SheetAnswer> =>
  request<ContactSheet>(`${contacts(accountId)}/billing/${encodeURIComponent(userId)}`, {
    method: 'PUT',
    body: { userId: by },
    ifMatch,
  })

export const confirmReviewed = (accountId: string): Promise<SheetAnswer> =>
  request<ContactSheet>(`${contacts(accountId)}/review`, { method: 'POST' })

/** When the pending security address was sent its link, and until when the link works. */
export const getPendingVerification = (accountId: string) =>
  call<{ email: string; sentAt: string | null; expiresAt: string | null }>(
    `${contacts(accountId)}/security/verification`,
  )

export const resendVerification = (accountId: string): Promise<unknown> =>
  call(`${contacts(accountId)}/security/resend-verification`, { method: 'POST' })

/** The active users, who are the ones a slot may hold (200 is the API's largest page). */
export const listActiveUsers = (accountId: string): Promise<UserPage> =>
  call<UserPage>(`${base(accountId)}/users?status=active&limit=200`)

/**
 * "Mail works again": takes the address off the account's suppression list (`DELETE
 * …/suppressions/{email}`, which answers nothing), then reads the sheet, whose contacts carry the
 * mark no more (an outside security address is pending verification again).
 */
export async function clearUndeliverable(accountId: string, email: string): Promise<SheetAnswer> {
  await call(`${base(accountId)}/suppressions/${encodeURIComponent(email)}`, { method: 'DELETE' })
  return getSheet(accountId)
}
