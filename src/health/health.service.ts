import type { Clock } from '../lib/clock.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import type { AccountService } from '../accounts/accounts.service.ts'
import type { AccountHealth } from './health.schemas.ts'

const DAY_MS = 24 * 60 * 60 * 1000

export type HealthService = ReturnType<typeof createHealthService>

/** The account's contact problems (SPEC 3), from its sheet and review date. */
export function createHealthService(deps: {
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
      return { accountId, ok: problems.length === 0, problems }
    },
  }
}
