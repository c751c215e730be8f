import type { Kysely } from 'kysely'

import { notFound } from '../accounts/account-errors.ts'
import { findAccount } from '../accounts/accounts.repository.ts'
import type { Database } from '../db/database.ts'
import { toPage } from '../lib/page.ts'
import { listAuditEvents, toAuditEvent } from './audit.repository.ts'

export type AuditService = ReturnType<typeof createAuditService>

/** Reading the audit log: newest first, by cursor. Writing happens in each change's transaction. */
export function createAuditService({ db }: { db: Kysely<Database> }) {
  return {
    async list(accountId: string, page: { limit: number; cursor?: string | undefined }) {
      if (!(await findAccount(db, accountId))) throw notFound(accountId)
      const rows = await listAuditEvents(db, accountId, { limit: page.limit + 1, cursor: page.cursor })
      return toPage(rows, page.limit, toAuditEvent)
    },
  }
}
