import { appendAuditEvent } from '../audit/audit.repository.ts'
import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import type { RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import { toPage } from '../lib/page.ts'
import { notFound } from './account-errors.ts'
import * as repo from './accounts.repository.ts'
import type { Account, CreateAccount, UpdateAccount } from './accounts.schemas.ts'
import type { AccountRow } from './accounts.table.ts'

export const toAccount = (row: AccountRow): Account => ({
  id: row.id,
  name: row.name,
  locale: row.locale,
  allowedEmailDomains: row.allowed_email_domains,
  contactsReviewedAt: row.contacts_reviewed_at?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
})

export type AccountService = ReturnType<typeof createAccountService>

export function createAccountService({ db }: { db: Db }) {
  return {
    /** Creates an account; a caller-chosen id that exists already is a 409. */
    async create(ctx: RequestContext, input: CreateAccount): Promise<Account> {
      return transaction(db, async (trx) => {
        const row = await repo.insertAccount(trx, {
          id: input.id ?? newId('acct'),
          name: input.name,
          locale: input.locale ?? 'en',
          allowed_email_domains: input.allowedEmailDomains ?? null,
          contacts_reviewed_at: null,
        })
        if (!row) throw new AppError('conflict', { detail: `An account with the id "${input.id}" exists already.` })
        const account = toAccount(row)
        await appendAuditEvent(trx, ctx, { accountId: row.id, action: 'account.created', before: null, after: account })
        return account
      })
    },

    async get(id: string): Promise<Account> {
      const row = await repo.findAccount(db, id)
      if (!row) throw notFound(id)
      return toAccount(row)
    },

    async list(page: { limit: number; cursor?: string | undefined }) {
      const rows = await repo.listAccounts(db, { limit: page.limit + 1, cursor: page.cursor })
      return toPage(rows, page.limit, toAccount)
    },

    async update(ctx: RequestContext, id: string, patch: UpdateAccount): Promise<Account> {
      return transaction(db, async (trx) => {
        const before = await repo.lockAccount(trx, id)
        if (!before) throw notFound(id)
        const row = await repo.updateAccount(trx, id, {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.locale !== undefined ? { locale: patch.locale } : {}),
          ...(patch.allowedEmailDomains !== undefined ? { allowed_email_domains: patch.allowedEmailDomains } : {}),
        })
        const account = toAccount(row!)
        await appendAuditEvent(trx, ctx, {
          accountId: id,
          action: 'account.updated',
          before: toAccount(before),
          after: account,
        })
        return account
      })
    },

    /** Deletes the account and, by cascade, all its users, contacts and history. */
    async delete(id: string): Promise<void> {
      const res = await repo.deleteAccount(db, id)
      if (res.numDeletedRows === 0n) throw notFound(id)
    },
  }
}
