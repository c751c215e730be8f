import type { Db } from '../db/database.ts'
import type { RequestContext } from '../lib/actor.ts'
import { newId } from '../lib/ids.ts'
import type { AuditEntry } from './audit-events.ts'
import type { AuditEventRow } from './audit.table.ts'
import type { AuditEvent } from './audit.schemas.ts'

/**
 * Appends one audit event. Always called with the transaction of the change it records, so the
 * change and its record commit together or not at all.
 */
export async function appendAuditEvent(db: Db, ctx: RequestContext, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      account_id: entry.accountId,
      id: newId('evt'),
      actor_type: ctx.actor.type,
      actor_id: ctx.actor.id,
      action: entry.action,
      // jsonb: stored as text so PostgreSQL and PGlite see the same value
      before: entry.before === null || entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === null || entry.after === undefined ? null : JSON.stringify(entry.after),
      request_id: ctx.requestId,
    })
    .execute()
}

/** Newest first; `cursor` is the id of the last event of the previous page. */
export async function listAuditEvents(
  db: Db,
  accountId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<AuditEventRow[]> {
  let q = db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId)
  if (page.cursor) q = q.where('id', '<', page.cursor)
  return q.orderBy('id', 'desc').limit(page.limit).execute()
}

export const toAuditEvent = (row: AuditEventRow): AuditEvent => ({
  id: row.id,
  at: row.at.toISOString(),
  actor: { type: row.actor_type, id: row.actor_id },
  action: row.action as AuditEvent['action'],
  before: row.before ?? null,
  after: row.after ?? null,
  requestId: row.request_id,
})
