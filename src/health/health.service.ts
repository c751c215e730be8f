import type { Kysely } from 'kysely'
import type { AccountService } from '../accounts/accounts.service.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import type { Database } from '../db/database.ts'
import type { Clock } from '../lib/clock.ts'
import { hasUndeliverable } from '../notifications/notifications.repository.ts'
import type { AccountHealth } from './health.schemas.ts'

const DAY_MS = 24 * 60 * 60 * 1000
/** Notifications that reached nobody count against an account's health this long. */
const UNDELIVERABLE_WINDOW_DAYS = 30

export type HealthService = ReturnType<typeof createHealthService>

/** The account's contact problems (SPEC 3), from its sheet, review date and delivery record. */
export function createHealthService(deps: {
  db: Kysely<Database>
  accounts: Pick<AccountService, 'get'>
  contacts: Pick<ContactService, 'getSheet'>
  clock: Clock
  reviewIntervalDays: number
}) {
  return {
    async get(accountId: string): Promise<AccountHealth> {
      const account = await deps.accounts.get(accountId)
      const sheet = await deps.contacts.getSheet(accountId)
      const problems: AccountHealth['problems'] = []
      if (!sheet.primary) problems.push({ code: 'no-primary-contact', message: 'The account has no primary contact.' })
      if (sheet.billing.length === 0) problems.push({ code: 'no-billing-contact', message: 'The account has no billing contact.' })
      if (sheet.security?.type === 'email' && sheet.security.verification === 'pending') {
        problems.push({
          code: 'security-contact-unverified',
          message: `${sheet.security.email} has not verified their address yet; security notices go to the primary contact.`,
        })
      }
      // Never reviewed counts from the account's creation.
      const reviewedAt = Date.parse(sheet.contactsReviewedAt ?? account.createdAt)
      if (deps.clock.now().getTime() - reviewedAt > deps.reviewIntervalDays * DAY_MS) {
        problems.push({ code: 'review-overdue', message: `The contacts were last confirmed more than ${deps.reviewIntervalDays} days ago.` })
      }
      const u = await hasUndeliverable(deps.db, accountId, UNDELIVERABLE_WINDOW_DAYS)
      // only addresses that are still contacts: replacing the contact clears the problem
      const current = new Set(
        [sheet.primary, ...sheet.billing, sheet.decisionMaker, sheet.onboarding, sheet.security, sheet.technicalAdmin]
          .filter((c) => c !== null)
          .map((c) => c.email.toLowerCase()),
      )
      const bad = u.addresses.filter((a) => current.has(a))
      if (u.notifications > 0 || bad.length > 0) {
        const parts = [
          ...(bad.length > 0 ? [`mail to ${bad.join(', ')} is refused by its mail server`] : []),
          ...(u.notifications > 0 ? [`${u.notifications} notification(s) in the last ${UNDELIVERABLE_WINDOW_DAYS} days reached nobody`] : []),
        ]
        problems.push({ code: 'undeliverable-notifications', message: `${parts.join('; ')}.` })
      }
      return { accountId, ok: problems.length === 0, problems }
    },
  }
}
