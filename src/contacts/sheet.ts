import type { AccountRow } from '../accounts/accounts.table.ts'
import type { UserRow } from '../users/users.table.ts'
import { SINGLE_SLOTS, type SingleSlot, SLOT_NAMES, type SlotName } from './contact-slots.ts'
import type { SlotHolderRow } from './contacts.repository.ts'
import type { Contact, ContactSheet, InheritedContact, SlotInput } from './contacts.schemas.ts'
import type { InheritedHolder } from './effective-holders.repository.ts'
import type { SlotRules, StoredSlotRules } from './slot-rules.ts'

/**
 * Who holds what, and each slot's rule towards the parent account (slot-rules.ts), without the
 * account's version and review date: what writes compute on.
 */
export type SheetState = Record<SingleSlot, Contact | null> & { billing: Contact[]; rules: SlotRules }

/** A user a write may name: what an edit checks and stores of them. */
export type NamedUser = Pick<UserRow, 'id' | 'email' | 'name' | 'status'>

/**
 * What a sheet change reads before it writes, under the account's lock: the account, its slot
 * holders, and the users its input may name (and its author, when a user: contact-notices.ts). A
 * single write reads it for its one account; the CSV import reads it for a whole batch at once
 * (import/import-sheets.ts).
 */
export interface SheetData {
  account: AccountRow
  holders: SlotHolderRow[]
  users: NamedUser[]
  /** Whether the account has children, whose mail a change may reach; undefined: not read (then asked). */
  hasChildren?: boolean
}

/**
 * What a write asks for: the new state, from a copy of the current one and what was read with
 * it, or the problem that forbids it. Edits read nothing themselves, so one runs the same on a
 * batch's reads as on a single write's.
 */
export type Edit = (state: SheetState, data: SheetData) => SheetState

/** The inputs a write names users with, whose rows it must read. */
export type Named = (SlotInput | null | undefined)[]

/** Every slot's rule, `inherit` where none is stored. */
export const rulesOf = (stored: Partial<SlotRules>): SlotRules =>
  Object.fromEntries(SLOT_NAMES.map((slot) => [slot, stored[slot] ?? 'inherit'])) as SlotRules

/** The rules as accounts.slot_rules keeps them: without the `inherit` ones. */
export const storedRules = (rules: SlotRules): StoredSlotRules =>
  Object.fromEntries(Object.entries(rules).filter(([, rule]) => rule !== 'inherit'))

export const sameRules = (a: SlotRules, b: SlotRules) => SLOT_NAMES.every((slot) => a[slot] === b[slot])

const emptyState = (rules: SlotRules): SheetState => ({
  rules,
  primary: null,
  billing: [],
  decisionMaker: null,
  onboarding: null,
  security: null,
  technicalAdmin: null,
})

const toContact = (row: SlotHolderRow): Contact => {
  const undeliverable =
    row.suppressed_kind === null || row.suppressed_kind === undefined
      ? {}
      : {
          undeliverable: {
            kind: row.suppressed_kind,
            reason: row.suppressed_reason ?? '',
            since: (row.suppressed_at ?? new Date(0)).toISOString(),
          },
        }
  return row.user_id !== null
    ? { type: 'user', userId: row.user_id, email: row.user_email ?? '', name: row.user_name ?? '', ...undeliverable }
    : { type: 'email', email: row.email ?? '', verification: row.verification ?? 'pending', ...undeliverable }
}

/** Rows (billing in position order) and the account's stored rules to the state. */
export function rowsToState(rows: SlotHolderRow[], rules: StoredSlotRules): SheetState {
  const state = emptyState(rulesOf(rules))
  for (const row of [...rows].sort((a, b) => a.position - b.position)) {
    if (row.slot === 'billing') state.billing.push(toContact(row))
    else state[row.slot] = toContact(row)
  }
  return state
}

/** The sheet's `inherited`: per slot, the holders that come from ancestors (effective-holders.repository.ts). */
export function inheritedOf(rows: InheritedHolder[]): NonNullable<ContactSheet['inherited']> {
  const out = Object.fromEntries(SLOT_NAMES.map((slot) => [slot, [] as InheritedContact[]])) as NonNullable<
    ContactSheet['inherited']
  >
  for (const r of rows)
    out[r.slot as SlotName].push({
      email: r.email,
      name: r.name,
      userId: r.user_id,
      fromAccountId: r.source_account_id,
      fromAccountName: r.source_account_name,
    })
  return out
}

export const toSheet = (
  state: SheetState,
  account: Pick<AccountRow, 'contacts_version' | 'contacts_reviewed_at'>,
): ContactSheet => ({
  ...state,
  contactsReviewedAt: account.contacts_reviewed_at?.toISOString() ?? null,
  version: account.contacts_version,
})

/** One place of the sheet as stored: what a row holds, without the user's name and address. */
export interface Place {
  slot: SlotName
  position: number
  user_id: string | null
  email: string | null
  verification: 'pending' | 'verified' | null
}

function stateToPlaces(state: SheetState): Place[] {
  const place = (slot: SlotName, position: number, c: Contact): Place =>
    c.type === 'user'
      ? { slot, position, user_id: c.userId, email: null, verification: null }
      : { slot, position, user_id: null, email: c.email, verification: c.verification }
  const places: Place[] = state.billing.map((c, i) => place('billing', i, c))
  for (const slot of SINGLE_SLOTS) {
    const c = state[slot]
    if (c) places.push(place(slot, 0, c))
  }
  return places
}

const key = (p: Place) => `${p.slot}:${p.position}`
const same = (a: Place, b: Place) => a.user_id === b.user_id && a.email === b.email && a.verification === b.verification

/** What to delete and insert to go from one state to another; unchanged places are left alone. */
export function diffPlaces(before: SheetState, after: SheetState): { remove: Place[]; add: Place[] } {
  const b = new Map(stateToPlaces(before).map((p) => [key(p), p]))
  const a = new Map(stateToPlaces(after).map((p) => [key(p), p]))
  const remove = [...b.values()].filter((p) => !a.has(key(p)) || !same(p, a.get(key(p))!))
  const add = [...a.values()].filter((p) => !b.has(key(p)) || !same(p, b.get(key(p))!))
  return { remove, add }
}

/**
 * The slots whose holders or rule differ between two states, from their `diffPlaces`: what a
 * change reaches below the account.
 */
export function changedSlots(before: SheetState, after: SheetState, places: Place[]): SlotName[] {
  const touched = new Set(places.map((p) => p.slot))
  return SLOT_NAMES.filter((slot) => touched.has(slot) || before.rules[slot] !== after.rules[slot])
}

/**
 * The account's own contacts that mail reaches, billing first (one per place: a contact in two
 * slots is there twice): a slot whose rule is `none` reaches nobody, its own holders included
 * (slot-rules.ts), as the routing's walk has it.
 */
export const mailedContactsOf = (state: Pick<SheetState, SingleSlot | 'billing' | 'rules'>) => ({
  billing: state.rules.billing === 'none' ? [] : state.billing,
  ...(Object.fromEntries(
    SINGLE_SLOTS.map((slot) => [slot, state.rules[slot] === 'none' ? null : state[slot]]),
  ) as Record<SingleSlot, Contact | null>),
})

/** Every contact of `state`, billing first. */
export const contactsOf = (state: Pick<SheetState, SingleSlot | 'billing'>): Contact[] => [
  ...state.billing,
  ...SINGLE_SLOTS.flatMap((slot) => state[slot] ?? []),
]

/** The slots (with billing positions collapsed to "billing") that a user holds. */
export function slotsHeldBy(state: SheetState, userId: string): SlotName[] {
  const held: SlotName[] = []
  if (state.billing.some((c) => c.type === 'user' && c.userId === userId)) held.push('billing')
  for (const slot of SINGLE_SLOTS) {
    const c = state[slot]
    if (c?.type === 'user' && c.userId === userId) held.push(slot)
  }
  return held
}
