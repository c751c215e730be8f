import type { Db } from '../db/database.ts'

/*
 * What a settled delivery changes besides itself, written in the settle's transaction: the
 * endpoints that answered 410. (An address refused for good takes the bounce path,
 * bounces/bounce-consequences.ts; the outcome of a notification whose last delivery settled is
 * notifications/notification-status.ts.)
 */

/** The endpoint answered 410 Gone: no more deliveries to it, with the reason shown in the API. */
export async function disableEndpoint(db: Db, endpointId: string, reason: string): Promise<void> {
  await db
    .updateTable('webhook_endpoints')
    .set({ status: 'disabled', disabled_reason: reason })
    .where('id', '=', endpointId)
    .execute()
}
