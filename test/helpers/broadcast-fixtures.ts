import assert from 'node:assert/strict'

import { sql } from 'kysely'

import type { Db } from '../../src/db/database.ts'
import type { TestApp } from './build-test-app.ts'

/** The API's view of a broadcast, as the tests read it. */
export interface BroadcastView {
  id: string
  status: 'running' | 'done' | 'cancelled'
  total: number
  processed: number
  notifications: number
  undeliverable: number
  cancelledDeliveries: number
  progress: number
  finishedAt: string | null
  cancelledAt: string | null
}

/**
 * `count` accounts `<prefix>-001`…, each with a super admin who is its primary contact (address
 * `owner@<account>.example`), written in three statements: the broadcast tests need many accounts,
 * not their history.
 */
export async function seedAccountsWithPrimary(db: Db, prefix: string, count: number): Promise<string[]> {
  await sql`
    insert into accounts (id, name, contacts_reviewed_at)
    select ${prefix} || '-' || lpad(i::text, 3, '0'), 'Customer ' || i, now() from generate_series(1, ${count}) i`.execute(
    db,
  )
  await sql`
    insert into users (account_id, id, email, name, role, status)
    select id, 'owner', 'owner@' || id || '.example', 'Owner of ' || id, 'super_admin', 'active' from accounts where id like ${prefix + '-%'}`.execute(
    db,
  )
  await sql`
    insert into contact_slots (account_id, slot, position, user_id, user_status)
    select id, 'primary', 0, 'owner', 'active' from accounts where id like ${prefix + '-%'}`.execute(db)
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(3, '0')}`)
}

export async function startBroadcast(
  app: TestApp,
  payload: { subject: string; text?: string; html?: string; accountIds?: string[] },
): Promise<BroadcastView> {
  const res = await app.call({
    method: 'POST',
    url: '/v1/broadcasts',
    payload: { category: 'account_update', text: `${payload.subject}.`, ...payload },
  })
  assert.equal(res.statusCode, 202, res.body)
  return res.json()
}

export async function getBroadcast(app: TestApp, id: string): Promise<BroadcastView> {
  const res = await app.call({ method: 'GET', url: `/v1/broadcasts/${id}` })
  assert.equal(res.statusCode, 200, res.body)
  return res.json()
}

/** The broadcast's email deliveries by status, straight from the database. */
export async function deliveriesOf(db: Db, broadcastId: string): Promise<Record<string, number>> {
  const res = await sql<{ status: string; n: number }>`
    select d.status, count(*)::int as n
    from deliveries d join notifications n on n.account_id = d.account_id and n.id = d.notification_id
    where n.broadcast_id = ${broadcastId} group by d.status order by d.status`.execute(db)
  return Object.fromEntries(res.rows.map((r) => [r.status, r.n]))
}
