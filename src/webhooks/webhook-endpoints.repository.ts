import type { Insertable } from 'kysely'

import type { Db } from '../db/database.ts'
import type { WebhookEndpointRow, WebhookEndpointsTable } from './webhooks.table.ts'

export const insertWebhookEndpoint = (db: Db, row: Insertable<WebhookEndpointsTable>): Promise<WebhookEndpointRow> =>
  db.insertInto('webhook_endpoints').values(row).returningAll().executeTakeFirstOrThrow()

/** Every endpoint, in id order (the list is not paged). */
export const listWebhookEndpoints = (db: Db): Promise<WebhookEndpointRow[]> =>
  db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute()

/** Deletes the endpoint and, by cascade, its pending deliveries; returns whether it existed. */
export async function deleteWebhookEndpoint(db: Db, id: string): Promise<boolean> {
  const res = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst()
  return res.numDeletedRows > 0n
}
