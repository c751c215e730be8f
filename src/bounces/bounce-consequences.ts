import { findAccount } from '../accounts/accounts.repository.ts'
import { appendAuditEvent } from '../audit/audit.repository.ts'
import type { SlotName } from '../contacts/contact-slots.ts'
import type { Db } from '../db/database.ts'
import { executeAsOne } from '../db/one-statement.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import type { RequestContext } from '../lib/actor.ts'
import { mailWrites } from '../mail/queue-system-mail.ts'
import { addRecipients, findNotification } from '../notifications/notifications.repository.ts'
import { resolveRecipientsOf } from '../routing/recipients.repository.ts'
import type { RoutingPolicy, SendableCategory } from '../routing/routing-policy.ts'
import { listActiveSuperAdmins } from '../users/users.repository.ts'
import { eventWrites } from '../webhooks/events.ts'
import * as repo from './bounces.repository.ts'
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
const BOUNCE_CTX: RequestContext = { actor: { type: 'system', id: 'bounces' }, requestId: 'bounce' }

/**
 * What a bounce (or a complaint) does, all in the caller's transaction, so that it happens
 * entirely or not at all: the delivery becomes `bounced` with the reason; the address goes on the
 * account's suppression list; the notification is queued to whoever the category's rule chooses
 * now (the suppressed address no longer counts), except those who had it already; the super admins
 * are mailed to fix each slot the address holds; a `contact.undeliverable` event and an audit event
 * are written. A delivery already bounced changes nothing: false.
 */
export async function applyBounce(trx: Db, deps: BounceDeps, b: Bounce): Promise<boolean> {
  const d = b.delivery
  if (!(await repo.markBounced(trx, d, b.reason))) return false
  const email = d.recipient.toLowerCase()
  await repo.suppress(trx, {
    accountId: d.account_id,
    email,
    kind: b.kind,
    reason: b.reason,
    source: b.source,
    deliveryId: d.id,
  })
  const held = await repo.slotsOfAddress(trx, d.account_id, email)
  const slots = [...new Set(held.map((h) => h.slot as SlotName))]
  const fallback = await sendFallback(trx, deps, d)
  const account = (await findAccount(trx, d.account_id))!
  const admins = slots.length === 0 ? [] : await listActiveSuperAdmins(trx, d.account_id)
  const fix = admins
    .filter((a) => a.email.toLowerCase() !== email)
    .map((a) => ({
      accountId: d.account_id,
      category: 'contact_undeliverable' as const,
      to: { email: a.email, name: a.name, userId: a.id },
      locale: a.locale ?? account.locale,
      mail: {
        kind: 'contact-undeliverable' as const,
        accountName: account.name,
        email,
        slots,
        cause: b.kind === 'complaint' ? ('complaint' as const) : ('bounce' as const),
        reason: b.reason,
        settingsUrl: `${deps.publicUrl}/ui/`,
      },
    }))
  const what = {
    email,
    kind: b.kind,
    reason: b.reason,
    source: b.source,
    slots,
    userId: held.find((h) => h.user_id)?.user_id ?? null,
    deliveryId: d.id,
    notificationId: d.notification_id,
    fallback: fallback.map((r) => r.email),
  }
  await executeAsOne(trx, [
    ...mailWrites(BOUNCE_CTX, fix),
    ...eventWrites([{ accountId: d.account_id, type: 'contact.undeliverable', data: what }]),
  ])
  await appendAuditEvent(trx, BOUNCE_CTX, {
    accountId: d.account_id,
    action: 'contacts.undeliverable',
    before: null,
    after: what,
  })
  return true
}

/**
 * Queues the bounced delivery's notification to the recipients its category chooses now, for a
 * notification a platform sent (our own mail has no category rule: its bounce suppresses the
 * address and tells the admins, nothing more). Answers who was queued.
 */
async function sendFallback(trx: Db, deps: BounceDeps, d: DeliveryRow) {
  if (!d.notification_id) return []
  const n = await findNotification(trx, d.account_id, d.notification_id)
  const rule = n?.kind === 'notification' ? deps.policy[n.category as SendableCategory] : undefined
  if (!rule) return []
  const now = await resolveRecipientsOf(trx, d.account_id, rule)
  return addRecipients(
    trx,
    { accountId: d.account_id, id: d.notification_id, maxAttempts: d.max_attempts },
    now?.recipients ?? [],
    { deliveryId: d.id, address: d.recipient },
  )
}
