import { notFound as accountNotFound } from '../accounts/account-errors.ts'
import { findAccount, lockAccount } from '../accounts/accounts.repository.ts'
import { appendAuditEvent } from '../audit/audit.repository.ts'
import { deleteUserSessions } from '../auth/sessions/sessions.repository.ts'
import type { SlotName } from '../contacts/contact-slots.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import { slotsHeldBy } from '../contacts/sheet.ts'
import type { Db } from '../db/database.ts'
import { executeAsOne } from '../db/one-statement.ts'
import { PG, pgError } from '../db/pg-errors.ts'
import { transaction } from '../db/transaction.ts'
import type { RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import { toPage } from '../lib/page.ts'
import { mailsToAdmins, mailWrites } from '../mail/queue-system-mail.ts'
import { emitEvent } from '../webhooks/events.ts'
import { emailTaken } from './user-errors.ts'
import * as repo from './users.repository.ts'
import type { PatchUser, PutUser, User } from './users.schemas.ts'
import type { UserRow } from './users.table.ts'

export const toUser = (row: UserRow): User => ({
  id: row.id,
  accountId: row.account_id,
  email: row.email,
  name: row.name,
  role: row.role,
  status: row.status,
  locale: row.locale,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
})

const userNotFound = (id: string) => new AppError('not-found', { detail: `No user "${id}" in this account.` })

export type UserService = ReturnType<typeof createUserService>

export function createUserService({
  db,
  contacts,
  publicUrl,
}: {
  db: Db
  contacts: Pick<ContactService, 'vacateUser'>
  publicUrl: string
}) {
  /**
   * A deactivation's announcements, in its transaction: the `user.deactivated` event, and when it
   * emptied slots, a mail to each remaining super admin naming the slots to fill again.
   */
  async function announceDeactivation(trx: Db, ctx: RequestContext, user: UserRow, slots: SlotName[]) {
    await emitEvent(trx, user.account_id, 'user.deactivated', { userId: user.id, vacatedSlots: slots })
    if (slots.length === 0) return
    const account = await findAccount(trx, user.account_id)
    const mails = mailsToAdmins(await repo.listAdminsToTell(trx, user.account_id), {
      accountId: user.account_id,
      category: 'slots_vacated',
      accountLocale: account!.locale,
      about: user.email,
      mail: {
        kind: 'slots-vacated',
        accountName: account!.name,
        userName: user.name,
        slots,
        settingsUrl: `${publicUrl}/ui/`,
      },
    })
    await executeAsOne(trx, mailWrites(ctx, mails))
  }

  /**
   * Applies a change to an existing user. Deactivation first vacates every slot the user holds
   * (the slots' foreign key would refuse the status change otherwise), all in `trx`.
   */
  async function applyChange(trx: Db, ctx: RequestContext, before: UserRow, patch: PatchUser): Promise<UserRow> {
    const changes = Object.fromEntries(
      Object.entries(patch).filter(([k, v]) => v !== undefined && before[k as keyof UserRow] !== v),
    ) as PatchUser
    if (Object.keys(changes).length === 0) return before
    const vacated =
      changes.status === 'deactivated' ? await contacts.vacateUser(trx, ctx, before.account_id, before.id) : undefined
    // A deactivated user is signed out for good: reactivating them later must not revive an old session.
    if (changes.status === 'deactivated') await deleteUserSessions(trx, before.account_id, before.id)
    const after = await withEmailConflict(() => repo.updateUser(trx, before.account_id, before.id, changes))
    if (vacated) await announceDeactivation(trx, ctx, after, slotsHeldBy(vacated.before, before.id))
    const action =
      changes.status === 'deactivated'
        ? 'user.deactivated'
        : changes.status === 'active'
          ? 'user.reactivated'
          : 'user.updated'
    await appendAuditEvent(trx, ctx, {
      accountId: before.account_id,
      action,
      before: toUser(before),
      after: toUser(after),
    })
    return after
  }

  /** The upsert, in the caller's transaction. */
  async function putIn(
    trx: Db,
    ctx: RequestContext,
    accountId: string,
    userId: string,
    input: PutUser,
  ): Promise<{ user: User; created: boolean }> {
    // The account lock orders this against contact changes that check the user's status.
    if (!(await lockAccount(trx, accountId))) throw accountNotFound(accountId)
    const before = await repo.findUser(trx, accountId, userId)
    if (before) return { user: toUser(await applyChange(trx, ctx, before, input)), created: false }
    const row = await withEmailConflict(() =>
      repo.insertUser(trx, {
        account_id: accountId,
        id: userId,
        email: input.email,
        name: input.name,
        role: input.role,
        status: input.status ?? 'active',
        locale: input.locale ?? null,
      }),
    )
    await appendAuditEvent(trx, ctx, { accountId, action: 'user.created', before: null, after: toUser(row) })
    return { user: toUser(row), created: true }
  }

  return {
    /** The host product's idempotent upsert: the same body twice changes nothing the second time. */
    async put(
      ctx: RequestContext,
      accountId: string,
      userId: string,
      input: PutUser,
    ): Promise<{ user: User; created: boolean }> {
      return transaction(db, (trx) => putIn(trx, ctx, accountId, userId, input))
    },

    /**
     * `put` inside the caller's transaction (the CSV import, many accounts in one). A database
     * error (an address taken meanwhile) leaves that transaction unusable: roll it back.
     */
    putIn,

    async patch(ctx: RequestContext, accountId: string, userId: string, patch: PatchUser): Promise<User> {
      return transaction(db, async (trx) => {
        if (!(await lockAccount(trx, accountId))) throw accountNotFound(accountId)
        const before = await repo.findUser(trx, accountId, userId)
        if (!before) throw userNotFound(userId)
        return toUser(await applyChange(trx, ctx, before, patch))
      })
    },

    async get(accountId: string, userId: string): Promise<User> {
      const row = await repo.findUser(db, accountId, userId)
      if (!row) throw userNotFound(userId)
      return toUser(row)
    },

    async list(
      accountId: string,
      page: { limit: number; cursor?: string | undefined; status?: 'active' | 'deactivated' | undefined },
    ) {
      const rows = await repo.listUsers(db, accountId, { ...page, limit: page.limit + 1 })
      if (rows.length === 0 && !page.cursor) {
        // An empty list and a missing account must not look alike.
        if (!(await findAccount(db, accountId))) throw accountNotFound(accountId)
      }
      return toPage(rows, page.limit, toUser)
    },
  }
}

async function withEmailConflict<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f()
  } catch (e) {
    if (pgError(e)?.code === PG.uniqueViolation) {
      throw emailTaken(e)
    }
    throw e
  }
}
