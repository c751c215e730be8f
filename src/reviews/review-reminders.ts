import { lockAccountDueForReview, markReviewReminded } from '../accounts/accounts.repository.ts'
import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import { EMAIL_MAX_ATTEMPTS } from '../delivery/retry-policy.ts'
import type { Clock } from '../lib/clock.ts'
import { newId } from '../lib/ids.ts'
import { renderSystemMail } from '../mail/system-mail.ts'
import { fanOut } from '../notifications/fan-out.repository.ts'
import { oneAccount } from '../routing/recipients.repository.ts'
import type { RoutingPolicy } from '../routing/routing-policy.ts'
import { emitEvent } from '../webhooks/events.ts'

/** At most one reminder per account in this many days (docs/PRODUCT.md, "Routing: who receives what", review reminders). */
const REMINDER_GAP_DAYS = 30

/**
 * Queues a `contacts_review` notification (routed like any other: to the primary contact, else
 * the super admins) for accounts whose contacts were last confirmed more than `intervalDays` ago,
 * at most once per 30 days each, with a `contacts.review_due` event. Each account is taken with
 * FOR UPDATE SKIP LOCKED and marked in the same transaction, so concurrent workers never remind
 * twice. Answers how many accounts were reminded.
 */
export async function sendDueReviewReminders(
  deps: { db: Db; clock: Clock; policy: RoutingPolicy; intervalDays: number; publicUrl: string },
  limit = 200,
): Promise<number> {
  const now = deps.clock.now()
  const due = new Date(now.getTime() - deps.intervalDays * 86_400_000)
  const gap = new Date(now.getTime() - REMINDER_GAP_DAYS * 86_400_000)
  let sent = 0
  for (let i = 0; i < limit; i++) {
    const done = await transaction(deps.db, async (trx) => {
      const account = await lockAccountDueForReview(trx, { due, gap })
      if (!account) return true
      const mail = renderSystemMail(
        {
          kind: 'contacts-review',
          accountName: account.name,
          lastReviewedAt: account.contacts_reviewed_at,
          settingsUrl: `${deps.publicUrl}/ui/`,
        },
        account.locale,
      )
      await fanOut(trx, oneAccount(account.id), deps.policy.contacts_review, newId('ntf'), {
        category: 'contacts_review',
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        actor: { type: 'system', id: 'review-reminders' },
        requestId: null,
        maxAttempts: EMAIL_MAX_ATTEMPTS,
      })
      await markReviewReminded(trx, account.id, now)
      await emitEvent(trx, account.id, 'contacts.review_due', {
        lastReviewedAt: account.contacts_reviewed_at?.toISOString() ?? null,
      })
      return false
    })
    if (done) break
    sent++
  }
  return sent
}
