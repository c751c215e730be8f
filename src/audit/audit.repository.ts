import { sql } from 'kysely'

import { inChunks } from '../db/chunks.ts'
import type { Db } from '../db/database.ts'
import type { Write } from '../db/one-statement.ts'
import type { RequestContext } from '../lib/actor.ts'
import { newId } from '../lib/ids.ts'
import type { AuditEventRow, NewAuditEventRow } from './audit.table.ts'
import type { AuditAction, AuditEntry } from './audit-events.ts'

/**
 * Appends one audit event. Always called with the transaction of the change it records, so the
 * change and its record commit together or not at all.
 */
export async function appendAuditEvent(db: Db, ctx: RequestContext, entry: AuditEntry): Promise<void> {
  await auditEventInsert(db, ctx, entry).execute()
}

/** The insert of `appendAuditEvent`, not yet run: for a change that writes its rows in one statement (db/one-statement.ts). */
export const auditEventInsert = (db: Db, ctx: RequestContext, entry: AuditEntry) =>
  db.insertInto('audit_events').values(auditRow(ctx, entry))

/**
 * The inserts of several audit events of one context, not yet run, as one statement whose lists
 * go as arrays (db/keys.ts): a batch of bounces writes its audit with its other rows
 * (db/one-statement.ts), and its text stays the same for any number of entries.
 */
export function auditEventsInsert(ctx: RequestContext, entries: AuditEntry[]): Write {
  const rows = entries.map((e) => auditRow(ctx, e))
  const col = <T>(f: (r: NewAuditEventRow) => T) => rows.map(f)
  return sql`
    insert into audit_events (account_id, id, actor_type, actor_id, action, before, after, request_id)
    select a, i, ${ctx.actor.type}, ${ctx.actor.id}, ac, b::jsonb, af::jsonb, ${ctx.requestId}
    from unnest(${col((r) => r.account_id)}::text[], ${col((r) => r.id)}::text[], ${col((r) => r.action)}::text[],
      ${col((r) => r.before)}::text[], ${col((r) => r.after)}::text[]) as x(a, i, ac, b, af)`
}

/**
 * Appends many audit events in as few statements as the parameter limit allows (bulk imports),
 * in the caller's transaction like `appendAuditEvent`.
 */
export async function appendAuditEvents(db: Db, ctx: RequestContext, entries: AuditEntry[]): Promise<void> {
  await inChunks(entries, async (chunk) => {
    await db
      .insertInto('audit_events')
      .values(chunk.map((e) => auditRow(ctx, e)))
      .execute()
    return []
  })
}

function auditRow(ctx: RequestContext, entry: AuditEntry): NewAuditEventRow {
  return {
    account_id: entry.accountId,
    id: newId('evt'),
    actor_type: ctx.actor.type,
    actor_id: ctx.actor.id,
    action: entry.action,
    // jsonb: stored as text so PostgreSQL and PGlite see the same value
    before: entry.before === null || entry.before === undefined ? null : JSON.stringify(entry.before),
    after: entry.after === null || entry.after === undefined ? null : JSON.stringify(entry.after),
    request_id: ctx.requestId,
  }
}

/** Newest first; `cursor` is the id of the last event of the previous page; `exclude`: actions left out. */
export async function listAuditEvents(
  db: Db,
  accountId: string,
  page: { limit: number; cursor?: string | undefined; exclude?: readonly AuditAction[] },
): Promise<AuditEventRow[]> {
  let q = db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId)
  if (page.cursor) q = q.where('id', '<', page.cursor)
  if (page.exclude && page.exclude.length > 0) q = q.where('action', 'not in', page.exclude)
  return q.orderBy('id', 'desc').limit(page.limit).execute()
}

/** The actions of the changes that give a contact sheet its next version (contacts.service.ts). */
const SHEET_VERSION_ACTIONS = ['contacts.updated', 'contacts.vacated', 'contacts.reviewed'] as const

/** A change of a contact sheet as its audit event keeps it, with its author's name where known. */
export interface SheetEventRow {
  at: Date
  actor_type: AuditEventRow['actor_type']
  actor_id: string
  actor_name: string | null
  before: unknown
  after: unknown
}

/**
 * The changes that made the account's contact sheet versions after `version`, at most `limit`,
 * newest first (what a write from a stale page missed). The author is named from the account's
 * users; a platform key is not named (its name is the operator's, not the account's to read).
 */
export const listSheetEventsAfter = (
  db: Db,
  accountId: string,
  version: number,
  limit: number,
): Promise<SheetEventRow[]> =>
  db
    .selectFrom('audit_events as e')
    .leftJoin('users as u', (j) =>
      j.onRef('u.account_id', '=', 'e.account_id').onRef('u.id', '=', 'e.actor_id').on('e.actor_type', '=', 'user'),
    )
    .select(['e.at', 'e.actor_type', 'e.actor_id', 'e.before', 'e.after'])
    .select('u.name as actor_name')
    .where('e.account_id', '=', accountId)
    .where('e.action', 'in', SHEET_VERSION_ACTIONS)
    .where(sql<boolean>`(e.after ->> 'version')::int > ${version}`)
    .orderBy('e.id', 'desc')
    .limit(limit)
    .execute()
