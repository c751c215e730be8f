import type { AccountHealth } from './account-health.schemas.ts'

const DAY_MS = 24 * 60 * 60 * 1000
/** Notifications that reached nobody count against an account's health this long. */
export const UNDELIVERABLE_WINDOW_DAYS = 30

/**
 * What an account's health is judged on. The single-account service reads it from the sheet,
 * the report from one query over many accounts (account-health.repository.ts); the rules below are the
 * one definition of each problem for both.
 */
export interface HealthFacts {
  accountId: string
  hasPrimary: boolean
  billingContacts: number
  /** The security contact's outside address while it is still pending verification. */
  pendingSecurityEmail: string | null
  /** When the contacts were last confirmed; never reviewed counts from the account's creation. */
  reviewedSince: Date
  /** Notifications of the last {@link UNDELIVERABLE_WINDOW_DAYS} days that reached nobody. */
  undeliverableNotifications: number
  /** Addresses on the suppression list (bounced, or reported as spam) that some slot still holds (lower case). */
  refusedContactAddresses: string[]
}

/** The account's contact problems (docs/PRODUCT.md, "Account health"), in the catalogue's order. */
export function healthOf(f: HealthFacts, opts: { now: Date; reviewIntervalDays: number }): AccountHealth {
  const problems: AccountHealth['problems'] = []
  if (!f.hasPrimary) problems.push({ code: 'no-primary-contact', message: 'The account has no primary contact.' })
  if (f.billingContacts === 0)
    problems.push({ code: 'no-billing-contact', message: 'The account has no billing contact.' })
  if (f.pendingSecurityEmail !== null) {
    problems.push({
      code: 'security-contact-unverified',
      message: `${f.pendingSecurityEmail} has not verified their address yet; security notices go to the primary contact.`,
    })
  }
  if (opts.now.getTime() - f.reviewedSince.getTime() > opts.reviewIntervalDays * DAY_MS) {
    problems.push({
      code: 'review-overdue',
      message: `The contacts were last confirmed more than ${opts.reviewIntervalDays} days ago.`,
    })
  }
  const bad = [...f.refusedContactAddresses].sort()
  if (f.undeliverableNotifications > 0 || bad.length > 0) {
    const parts = [
      ...(bad.length > 0
        ? [`mail to ${bad.join(', ')} does not arrive (it bounced or was reported as spam) and is suppressed`]
        : []),
      ...(f.undeliverableNotifications > 0
        ? [
            `${f.undeliverableNotifications} notification(s) in the last ${UNDELIVERABLE_WINDOW_DAYS} days reached nobody`,
          ]
        : []),
    ]
    problems.push({ code: 'undeliverable-notifications', message: `${parts.join('; ')}.` })
  }
  return { accountId: f.accountId, ok: problems.length === 0, problems }
}
