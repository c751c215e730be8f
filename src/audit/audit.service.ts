import { notFound } from '../accounts/account-errors.ts'
import { findAccount } from '../accounts/accounts.repository.ts'
import type { Db } from '../db/database.ts'
import { toPage } from '../lib/page.ts'
import { listAuditEvents } from './audit.repository.ts'
import type { AuditEvent } from './audit.schemas.ts'
import type { AuditEventRow } from './audit.table.ts'
import type { AuditAction } from './audit-events.ts'

const toAuditEvent = (row: AuditEventRow): AuditEvent => ({
  id: row.id,
  at: row.at.toISOString(),
  actor: { type: row.actor_type, id: row.actor_id },
  action: row.action as AuditEvent['action'],
  before: row.before ?? null,
  after: row.after ?? null,
  requestId: row.request_id,
})

export type AuditService = ReturnType<typeof createAuditService>

/** Reading the audit log: newest first, by cursor. Writing happens in each change's transaction. */
export function createAuditService({ db }: { db: Db }) {
  return {
    async list(
      accountId: string,
      page: { limit: number; cursor?: string | undefined; exclude?: readonly AuditAction[] },
    ) {
      if (!(await findAccount(db, accountId))) throw notFound(accountId)
      const rows = await listAuditEvents(db, accountId, { ...page, limit: page.limit + 1 })
      return toPage(rows, page.limit, toAuditEvent)
    },
  }
}
