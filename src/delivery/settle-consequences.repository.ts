import { sql } from 'kysely'

import type { Db } from '../db/database.ts'
import { whereKeys } from '../db/keys.ts'

/*
 * What a settled delivery changes besides itself, written in the settle's transaction: the
 * addresses a mail server refused for good, and the endpoints that answered 410. (The outcome of
 * a notification whose last delivery settled is notifications/notification-status.ts.)
 */

/** A mail server refused this address for good: the account's health lists it until it changes. */
export async function markAddressUndeliverable(
  db: Db,
  accountId: string,
  email: string,
  reason: string,
): Promise<void> {
  await db
    .insertInto('undeliverable_addresses')
    .values({ account_id: accountId, email: email.toLowerCase(), reason: reason.slice(0, 500), at: sql`now()` })
    .onConflict((oc) =>
      oc.columns(['account_id', 'email']).doUpdateSet({ reason: reason.slice(0, 500), at: sql`now()` }),
    )
    .execute()
}

/** Addresses that took a mail again are deliverable again. */
export async function clearAddressesUndeliverable(
  db: Db,
  addresses: { account_id: string; email: string }[],
): Promise<void> {
  if (addresses.length === 0) return
  await db
    .deleteFrom('undeliverable_addresses')
    .where((eb) =>
      whereKeys(
        eb,
        addresses.map((a) => ({ account_id: a.account_id, email: a.email.toLowerCase() })),
      ),
    )
    .execute()
}

/** The endpoint answered 410 Gone: no more deliveries to it, with the reason shown in the API. */
export async function disableEndpoint(db: Db, endpointId: string, reason: string): Promise<void> {
  await db
    .updateTable('webhook_endpoints')
    .set({ status: 'disabled', disabled_reason: reason })
    .where('id', '=', endpointId)
    .execute()
}
