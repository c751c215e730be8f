import type { AccountRow } from '../accounts/accounts.table.ts'
import type { Write } from '../db/one-statement.ts'
import { CALLER_NAMES, type Locale } from '../i18n/labels.ts'
import type { RequestContext } from '../lib/actor.ts'
import { type MailTo, mailWrites } from '../mail/queue-system-mail.ts'
import { eventWrites } from '../webhooks/events.ts'
import { SINGLE_SLOTS, type SlotName } from './contact-slots.ts'
import type { Contact, ContactSheet } from './contacts.schemas.ts'
import type { NamedUser, SheetState } from './sheet.ts'

/** Who held what: contact identity (user id, or lower-cased address) → the slots they held. */
function holdings(state: SheetState): Map<string, { contact: Contact; slots: SlotName[] }> {
  const out = new Map<string, { contact: Contact; slots: SlotName[] }>()
  const add = (c: Contact | null, slot: SlotName) => {
    if (!c) return
    const key = c.type === 'user' ? `user:${c.userId}` : `email:${c.email.toLowerCase()}`
    const entry = out.get(key) ?? { contact: c, slots: [] }
    if (!entry.slots.includes(slot)) entry.slots.push(slot)
    out.set(key, entry)
  }
  for (const c of state.billing) add(c, 'billing')
  for (const slot of SINGLE_SLOTS) add(state[slot], slot)
  return out
}

/** How many accounts an event names at most; the rest are listed by `GET .../descendants?inheriting=`. */
const EVENT_DESCENDANTS_MAX = 100

/** The event's `affectedDescendants`: how many, and their ids (the first of them, when many). */
const affected = (ids: string[]) => ({
  count: ids.length,
  accountIds: ids.slice(0, EVENT_DESCENDANTS_MAX),
  complete: ids.length <= EVENT_DESCENDANTS_MAX,
})

const holderName = (c: Contact | null) => (c ? (c.type === 'user' ? c.name : c.email) : null)

/**
 * How the change's author is named in mail: the user's name, or what kind of caller it was. A
 * user acts only on their own account (app/access.ts), and the sheet's read holds their row.
 */
function actorName(ctx: RequestContext, accountId: string, locale: Locale, users: NamedUser[]): string {
  const { actor } = ctx
  // an admin of a parent account is not among this account's users (user ids are per account)
  if (actor.type === 'user')
    return (actor.accountId === accountId ? users.find((u) => u.id === actor.id)?.name : undefined) ?? actor.id
  return CALLER_NAMES[locale][actor.type === 'api_key' ? 'platform' : 'system']
}

/**
 * What a committed-together sheet change sets off, as writes for the change's own statement
 * (db/one-statement.ts): the `contacts.updated` event; a `contact_changed` mail to every previous
 * holder who lost a slot (unless they made the change themselves, or were deactivated). The
 * verification mail to a new outside security address is sent before the change is written
 * (`newOutsideAddress`).
 */
export function sheetChangeNotices(
  ctx: RequestContext,
  c: {
    account: Pick<AccountRow, 'id' | 'name' | 'locale'>
    before: SheetState
    after: SheetState
    sheet: ContactSheet
    /** The own locale of the users who held a slot before (read with the slots: no query here). */
    locales: Map<string, 'en' | 'fi' | null>
    /** What the change read: its author's row among them, when a user (`actorName`). */
    users: NamedUser[]
    /** The descendants whose mail of a changed slot reaches up to this account, in id order. */
    below: string[]
    vacatedUserId?: string
  },
): Write[] {
  const event = eventWrites([
    {
      accountId: c.account.id,
      type: c.vacatedUserId ? 'contacts.vacated' : 'contacts.updated',
      data: {
        ...(c.vacatedUserId ? { userId: c.vacatedUserId } : {}),
        contacts: c.sheet,
        ...(c.below.length > 0 ? { affectedDescendants: affected(c.below) } : {}),
      },
    },
  ])

  const before = holdings(c.before)
  const after = holdings(c.after)
  const losers = [...before.entries()]
    .map(([key, h]) => ({ key, contact: h.contact, lost: h.slots.filter((s) => !after.get(key)?.slots.includes(s)) }))
    .filter((l) => l.lost.length > 0)
    .filter(
      (l) =>
        !(
          l.contact.type === 'user' &&
          (l.contact.userId === c.vacatedUserId ||
            (ctx.actor.type === 'user' && ctx.actor.accountId === c.account.id && ctx.actor.id === l.contact.userId))
        ),
    )
    // a pending outside address receives nothing but its verification mail
    .filter((l) => l.contact.type === 'user' || l.contact.verification === 'verified')
  const mails = losers.map((l): MailTo => {
    const locale = (l.contact.type === 'user' ? c.locales.get(l.contact.userId) : null) ?? c.account.locale
    const single = l.lost.find((s) => s !== 'billing') as Exclude<SlotName, 'billing'> | undefined
    return {
      accountId: c.account.id,
      category: 'contact_changed',
      to: {
        email: l.contact.email,
        name: l.contact.type === 'user' ? l.contact.name : null,
        userId: l.contact.type === 'user' ? l.contact.userId : null,
      },
      locale,
      mail: {
        kind: 'contact-changed',
        accountName: c.account.name,
        slots: l.lost,
        previousName: holderName(l.contact) ?? '',
        newHolder: single ? holderName(c.after[single]) : null,
        changedBy: actorName(ctx, c.account.id, locale, c.users),
      },
    }
  })
  return [...event, ...mailWrites(ctx, mails)]
}

/**
 * The new outside security address a change makes, which is sent a verification mail. The
 * caller sends it before writing the change: a mail over its limit then refuses the whole change
 * (429) with nothing written, also inside an import's transaction, which goes on after it.
 */
export function newOutsideAddress(before: SheetState, after: SheetState): string | undefined {
  const sec = after.security
  if (sec?.type !== 'email' || sec.verification !== 'pending') return undefined
  // new, or verified before and to be verified again (its suppression was cleared: bounces/)
  const waiting = holdsAddress(before.security, sec.email) && before.security.verification === 'pending'
  return waiting ? undefined : sec.email
}

/** Whether the security slot holds the outside address `email` (addresses compare without case). */
export const holdsAddress = (c: Contact | null | undefined, email: string): c is Contact & { type: 'email' } =>
  c?.type === 'email' && c.email.toLowerCase() === email.toLowerCase()
