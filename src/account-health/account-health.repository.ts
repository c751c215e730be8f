import { type RawBuilder, sql } from 'kysely'

import { descendantsCte } from '../accounts/accounts.repository.ts'
import { SLOT_NAMES } from '../contacts/contact-slots.ts'
import { effectiveHoldersCtes } from '../contacts/effective-holders.repository.ts'
import type { Db } from '../db/database.ts'
import { DESCENDANTS_MAX } from './account-health.schemas.ts'
import { type HealthFacts, UNDELIVERABLE_WINDOW_DAYS } from './account-health-problems.ts'

/** The facts, the account's name and, for a descendant, how many levels below the asking account it is. */
export type AccountHealthFacts = HealthFacts & { name: string; parentAccountId: string | null; depth?: number }

interface FactsRow {
  id: string
  name: string
  parent_account_id: string | null
  reviewed_since: Date
  depth: number | null
  has_primary: boolean
  billing_contacts: number
  pending_security_email: string | null
  undeliverable_notifications: number
  refused: string[]
}

/**
 * The health facts of a page of accounts (id order, after `after`) in one query, for the report:
 * each sub-select reads one account's rows through its primary key, so a page costs one round
 * trip however many accounts it holds. Must agree with what account-health.service.ts reads from the
 * sheet; test/account-health/bulk-health.test.ts compares the two.
 */
export const listHealthFacts = (db: Db, page: { after?: string | undefined; limit: number }) =>
  factsOf(
    db,
    sql`select id, name, parent_account_id, coalesce(contacts_reviewed_at, created_at) as reviewed_since, null::int as depth
    from accounts where id > ${page.after ?? ''} order by id limit ${page.limit}`,
  )

/**
 * `listHealthFacts` of an account's descendants (children first, then theirs, up the tree's depth),
 * each with how many levels below the account it is: what a parent's admins see of the accounts
 * they manage. `only`: just those of these ids.
 */
export const listDescendantsHealthFacts = (db: Db, accountId: string, only?: string[]) =>
  factsOf(
    db,
    sql`
    with recursive ${descendantsCte(accountId)}
    select a.id, a.name, a.parent_account_id, coalesce(a.contacts_reviewed_at, a.created_at) as reviewed_since, d.depth
    from descendants d join accounts a on a.id = d.id
    ${only ? sql`where a.id = any(${only}::text[])` : sql``}
    order by a.id limit ${DESCENDANTS_MAX}`,
  )

/** The facts of the accounts `accounts` selects (id, name, parent_account_id, reviewed_since, depth), in id order. */
async function factsOf(db: Db, accounts: RawBuilder<unknown>): Promise<AccountHealthFacts[]> {
  const res = await sql<FactsRow>`
    with recursive a as (${accounts}),
    accts as (select id from a),
    -- the sheet as mail sees it (contacts/effective-holders.repository.ts): a primary from the parent counts
    ${effectiveHoldersCtes(SLOT_NAMES)}
    select a.id, a.name, a.parent_account_id, a.reviewed_since, a.depth,
      exists (select 1 from effective_holders h where h.account_id = a.id and h.slot = 'primary') as has_primary,
      (select count(*)::int from effective_holders h where h.account_id = a.id and h.slot = 'billing') as billing_contacts,
      -- as the sheet reads it: an outside address whose verification is not (yet) 'verified'
      (select coalesce(s.email, '') from contact_slots s
        where s.account_id = a.id and s.slot = 'security' and s.user_id is null and coalesce(s.verification, 'pending') = 'pending'
        limit 1) as pending_security_email,
      (select count(*)::int from notifications n
        where n.account_id = a.id and n.status = 'undeliverable'
          and n.created_at > now() - make_interval(days => ${UNDELIVERABLE_WINDOW_DAYS})) as undeliverable_notifications,
      -- refused addresses count only while a slot still holds them (a user's current address, or the outside one)
      (select coalesce(jsonb_agg(ua.email order by ua.email), '[]'::jsonb) from suppressions ua
        where ua.account_id = a.id and exists (
          select 1 from effective_holders h where h.account_id = a.id and lower(h.email) = ua.email)) as refused
    from a order by a.id`.execute(db)
  return res.rows.map((r) => ({
    accountId: r.id,
    name: r.name,
    parentAccountId: r.parent_account_id,
    ...(r.depth === null ? {} : { depth: r.depth }),
    hasPrimary: r.has_primary,
    billingContacts: r.billing_contacts,
    pendingSecurityEmail: r.pending_security_email,
    reviewedSince: r.reviewed_since,
    undeliverableNotifications: r.undeliverable_notifications,
    refusedContactAddresses: r.refused,
  }))
}
