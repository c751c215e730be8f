import { auditEventsInsert } from '../audit/audit.repository.ts'
import type { AuditEntry } from '../audit/audit-events.ts'
import type { SlotName } from '../contacts/contact-slots.ts'
import type { Db } from '../db/database.ts'
import { executeAsOne } from '../db/one-statement.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import type { RequestContext } from '../lib/actor.ts'
import { mailsToAdmins, type MailTo, mailWrites } from '../mail/queue-system-mail.ts'
import { addRecipients } from '../notifications/notifications.repository.ts'
import { resolveRecipientsOf } from '../routing/recipients.repository.ts'
import type { RoutingPolicy, SendableCategory } from '../routing/routing-policy.ts'
import { eventWrites, type NewEvent } from '../webhooks/events.ts'
import * as repo from './bounces.repository.ts'
import { type BounceContext } from './bounces.repository.ts'
import type { MailEventSource } from './mail-event.ts'
import type { SuppressionKind } from './suppressions.table.ts'

/** What the bounce path needs besides the transaction. */
export interface BounceDeps {
  policy: RoutingPolicy
  /** The service's public URL: the "fix this contact" mail links to the settings page there. */
  publicUrl: string
}

export interface Bounce {
  delivery: DeliveryRow
  kind: SuppressionKind
  reason: string
  source: MailEventSource
}

/** The system actor every bounce is recorded as: no person made it. */
export const BOUNCE_CTX: RequestContext = { actor: { type: 'system', id: 'bounces' }, requestId: 'bounce' }

/**
 * What a bounce (or a complaint) does, all in the caller's transaction, so that it happens
 * entirely or not at all: the delivery becomes `bounced` with the reason; the address goes on the
 * suppression list of the account whose contact it is (the delivery's, or the ancestor it inherits
 * the contact from: holderOf); the notification is queued to whoever the category's rule chooses
 * now (the suppressed address no longer counts), except those who had it already; that account's
 * super admins are mailed to fix each slot the address holds, unless they were told before; a
 * `contact.undeliverable` event and an audit event are written (at the holder too, when another).
 * The caller holds the delivery's row, locked, and saw it not bounced yet.
 *
 * Six round trips: the notification's lock, one read of what the rest needs (before the
 * suppression, to know whether it is new), the first writes, the routing (which must see the
 * suppression), the fallback, and the announcements.
 */
export async function applyBounce(trx: Db, deps: BounceDeps, b: Bounce): Promise<void> {
  const d = b.delivery
  const email = d.recipient.toLowerCase()
  await repo.lockNotificationOf(trx, d)
  const c = await repo.readBounceContext(trx, d, email)
  await executeAsOne(trx, [
    repo.markBounced(trx, d, b.reason),
    repo.suppressWrite(trx, {
      accountId: c.holderAccountId,
      email,
      kind: b.kind,
      reason: b.reason,
      source: b.source,
      deliveryId: c.holderAccountId === d.account_id ? d.id : null,
    }),
  ])
  const fallback = await sendFallback(trx, deps, d, c.notification)
  const a = announcements(deps, b, c, fallback)
  await executeAsOne(trx, [
    ...mailWrites(BOUNCE_CTX, a.fix),
    ...eventWrites(a.events),
    auditEventsInsert(BOUNCE_CTX, a.audit),
  ])
}

/**
 * What a bounce announces, given what it read of the holder and the notification (`c`) and who
 * its fallback reached: the "fix a contact" mails to the holder's super admins, the
 * `contact.undeliverable` events and the audit entries. The same for a bounce taken alone and one
 * of a batch (bounce-batch.ts).
 *
 * The holder's admins are told once, when the address goes on its list: when a parent's contact
 * dies, the mail of each of its children to it bounces, and one mail is enough. The delivery's
 * account records each of its bounces; an ancestor whose contact it was records the first.
 */
export function announcements(
  deps: Pick<BounceDeps, 'publicUrl'>,
  b: Bounce,
  c: BounceContext,
  fallback: { email: string }[],
): { fix: MailTo[]; events: NewEvent[]; audit: AuditEntry[] } {
  const d = b.delivery
  const email = d.recipient.toLowerCase()
  const slots = [...new Set(c.held.map((h) => h.slot as SlotName))]
  const inherited = c.holderAccountId !== d.account_id
  // no "fix a contact" about a "fix a contact" mail that bounced: two dead admins would mail each other forever
  const aboutFix = c.notification?.category === 'contact_undeliverable'
  const fix = mailsToAdmins(slots.length === 0 || aboutFix || c.suppressed ? [] : c.admins, {
    accountId: c.holderAccountId,
    category: 'contact_undeliverable',
    accountLocale: c.account.locale,
    about: email,
    mail: {
      kind: 'contact-undeliverable',
      accountName: c.account.name,
      email,
      slots,
      cause: b.kind === 'complaint' ? 'complaint' : 'bounce',
      reason: b.reason,
      settingsUrl: `${deps.publicUrl}/ui/`,
    },
  })
  const contact = {
    email,
    kind: b.kind,
    reason: b.reason,
    source: b.source,
    slots,
    userId: c.held.find((h) => h.user_id)?.user_id ?? null,
    /** Whose contact the address is: the account's own, or the ancestor's it inherits. */
    contactOfAccountId: c.holderAccountId,
  }
  const what = {
    ...contact,
    deliveryId: d.id,
    notificationId: d.notification_id,
    fallback: fallback.map((r) => r.email),
  }
  const events: NewEvent[] = [{ accountId: d.account_id, type: 'contact.undeliverable', data: what }]
  const audit: AuditEntry[] = [{ accountId: d.account_id, action: 'contacts.undeliverable', before: null, after: what }]
  if (inherited && !c.suppressed) {
    // the holder's own record: its contact is on its list now, through mail of the account below
    const theirs = { ...contact, viaAccountId: d.account_id }
    events.push({ accountId: c.holderAccountId, type: 'contact.undeliverable', data: theirs })
    audit.push({ accountId: c.holderAccountId, action: 'contacts.undeliverable', before: null, after: theirs })
  }
  return { fix, events, audit }
}

/**
 * Queues the bounced delivery's notification to the recipients its category chooses now, for a
 * notification a platform sent (our own mail has no category rule: its bounce suppresses the
 * address and tells the admins, nothing more). Answers who was queued.
 */
async function sendFallback(trx: Db, deps: BounceDeps, d: DeliveryRow, n: BounceContext['notification']) {
  const rule = n?.kind === 'notification' ? deps.policy[n.category as SendableCategory] : undefined
  if (!rule || !d.notification_id) return []
  const now = await resolveRecipientsOf(trx, d.account_id, rule)
  return addRecipients(
    trx,
    { accountId: d.account_id, id: d.notification_id, maxAttempts: d.max_attempts },
    now?.recipients ?? [],
    { deliveryId: d.id, address: d.recipient },
  )
}
