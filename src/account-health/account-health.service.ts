import type { AccountService } from '../accounts/accounts.service.ts'
import type { SlotName } from '../contacts/contact-slots.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import { listInheritingDescendants } from '../contacts/effective-holders.repository.ts'
import { contactsOf, mailedContactsOf } from '../contacts/sheet.ts'
import type { Db } from '../db/database.ts'
import type { Clock } from '../lib/clock.ts'
import { hasUndeliverable } from '../notifications/notifications.repository.ts'
import { listDescendantsHealthFacts } from './account-health.repository.ts'
import type { AccountHealth, DescendantHealth } from './account-health.schemas.ts'
import { type HealthFacts, healthOf, UNDELIVERABLE_WINDOW_DAYS } from './account-health-problems.ts'

export type HealthService = ReturnType<typeof createHealthService>

/** The account's contact problems (docs/PRODUCT.md, "Account health"), from its sheet, review date and delivery record. */
export function createHealthService(deps: {
  db: Db
  accounts: Pick<AccountService, 'get'>
  contacts: Pick<ContactService, 'getSheet'>
  clock: Clock
  reviewIntervalDays: number
}) {
  const judge = (f: HealthFacts) => healthOf(f, { now: deps.clock.now(), reviewIntervalDays: deps.reviewIntervalDays })
  return {
    /** The accounts below this one (what its admins manage), each with its health. */
    async descendants(accountId: string, inheriting?: SlotName[]): Promise<DescendantHealth[]> {
      await deps.accounts.get(accountId) // 404 for an unknown account
      // `inheriting`: only those whose mail of these slots reaches up to the account (what a change of them affects)
      const only = inheriting ? await listInheritingDescendants(deps.db, accountId, inheriting) : undefined
      const facts = await listDescendantsHealthFacts(deps.db, accountId, only)
      return facts.map((f) => ({
        accountId: f.accountId,
        name: f.name,
        parentAccountId: f.parentAccountId!,
        depth: f.depth!,
        health: judge(f),
      }))
    },

    async get(accountId: string): Promise<AccountHealth> {
      const account = await deps.accounts.get(accountId)
      const sheet = await deps.contacts.getSheet(accountId)
      // the sheet as mail sees it, its own holders (none in a slot whose rule is none) and those it
      // inherits: an account whose primary comes from its parent has one
      const own = mailedContactsOf(sheet)
      const inherited = sheet.inherited
      const u = await hasUndeliverable(deps.db, accountId, UNDELIVERABLE_WINDOW_DAYS)
      // only addresses that are still contacts: replacing the contact clears the problem
      const current = new Set(
        [...contactsOf(own), ...Object.values(inherited ?? {}).flat()].map((h) => h.email.toLowerCase()),
      )
      const facts = {
        accountId,
        hasPrimary: own.primary !== null || (inherited?.primary.length ?? 0) > 0,
        billingContacts: own.billing.length + (inherited?.billing.length ?? 0),
        pendingSecurityEmail:
          sheet.security?.type === 'email' && sheet.security.verification === 'pending' ? sheet.security.email : null,
        reviewedSince: new Date(sheet.contactsReviewedAt ?? account.createdAt),
        undeliverableNotifications: u.notifications,
        refusedContactAddresses: u.addresses.filter((a) => current.has(a)),
      }
      return judge(facts)
    },
  }
}
