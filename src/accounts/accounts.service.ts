import { appendAuditEvent } from '../audit/audit.repository.ts'
import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import type { RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import { toPage } from '../lib/page.ts'
import { notFound } from './account-errors.ts'
import { TREE_MOVE_ATTEMPTS, treeProblem } from './account-tree.ts'
import * as repo from './accounts.repository.ts'
import type { Account, CreateAccount, UpdateAccount } from './accounts.schemas.ts'
import type { AccountRow } from './accounts.table.ts'

export const toAccount = (row: AccountRow): Account => ({
  id: row.id,
  name: row.name,
  locale: row.locale,
  allowedEmailDomains: row.allowed_email_domains,
  parentAccountId: row.parent_account_id,
  contactsReviewedAt: row.contacts_reviewed_at?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
})

/** A database refusal of a parent as its problem; any other error as it is. */
const rethrowTree = (parentId: string | null | undefined) => (e: unknown) => {
  throw treeProblem(e, parentId) ?? e
}

export type AccountService = ReturnType<typeof createAccountService>

export function createAccountService({ db }: { db: Db }) {
  return {
    /** Creates an account; a caller-chosen id that exists already is a 409. */
    async create(ctx: RequestContext, input: CreateAccount): Promise<Account> {
      return transaction(db, async (trx) => {
        const row = await repo
          .insertAccount(trx, {
            id: input.id ?? newId('acct'),
            name: input.name,
            locale: input.locale ?? 'en',
            allowed_email_domains: input.allowedEmailDomains ?? null,
            parent_account_id: input.parentAccountId ?? null,
            contacts_reviewed_at: null,
          })
          .catch(rethrowTree(input.parentAccountId))
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
      // every move in the tree takes its turn on one row (the account-tree migration): at REPEATABLE
      // READ and SERIALIZABLE each turn lost is a retry, and 30 moves at once lose up to 29 each
      const opts = patch.parentAccountId !== undefined ? { attempts: TREE_MOVE_ATTEMPTS } : {}
      return transaction(
        db,
        async (trx) => {
          const before = await repo.lockAccount(trx, id)
          if (!before) throw notFound(id)
          // the host product arranges its customers' accounts; a customer's admin cannot move theirs
          if (patch.parentAccountId !== undefined && ctx.actor.type !== 'api_key')
            throw new AppError('forbidden', { detail: 'Only the platform sets an account’s parent.' })
          const row = await repo
            .updateAccount(trx, id, {
              ...(patch.name !== undefined ? { name: patch.name } : {}),
              ...(patch.locale !== undefined ? { locale: patch.locale } : {}),
              ...(patch.allowedEmailDomains !== undefined ? { allowed_email_domains: patch.allowedEmailDomains } : {}),
              ...(patch.parentAccountId !== undefined ? { parent_account_id: patch.parentAccountId } : {}),
            })
            .catch(rethrowTree(patch.parentAccountId))
          const account = toAccount(row!)
          await appendAuditEvent(trx, ctx, {
            accountId: id,
            action: 'account.updated',
            before: toAccount(before),
            after: account,
          })
          return account
        },
        opts,
      )
    },

    /** Deletes the account and, by cascade, all its users, contacts and history. */
    async delete(id: string): Promise<void> {
      const res = await repo.deleteAccount(db, id).catch(rethrowTree(undefined))
      if (res.numDeletedRows === 0n) throw notFound(id)
    },
  }
}
