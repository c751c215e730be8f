import { lockAccounts } from '../accounts/accounts.repository.ts'
import type { AccountRow } from '../accounts/accounts.table.ts'
import type { Db } from '../db/database.ts'
import { findActiveUserByEmail, findUser, listUsersOfAccounts } from '../users/users.repository.ts'
import type { UserRow } from '../users/users.table.ts'
import { listSlotHoldersOfAccounts, lockSheet, type SlotHolderRow } from './contacts.repository.ts'

/** What a sheet change reads before it writes: the locked account, its slots, the users it names. */
export interface SheetReads {
  /** The account, locked until the transaction ends, and its slot holders. */
  lockSheet(db: Db, id: string): Promise<{ account: AccountRow; holders: SlotHolderRow[] } | undefined>
  findUser(db: Db, accountId: string, id: string): Promise<UserRow | undefined>
  findActiveUserByEmail(db: Db, accountId: string, email: string): Promise<UserRow | undefined>
}

/** Each read a query of its own: what every single change uses. */
export const DATABASE_READS: SheetReads = { lockSheet, findUser, findActiveUserByEmail }

const byAccount = <T extends { account_id: string }>(rows: T[]) => {
  const m = new Map<string, T[]>()
  for (const r of rows) m.set(r.account_id, [...(m.get(r.account_id) ?? []), r])
  return m
}

/**
 * The reads of many accounts' changes in one transaction (the CSV import), done up front in three
 * queries instead of a few per account: the accounts locked (the same lock, taken in id order),
 * then their slots and users, which the locks keep as read. Once an account's change has written,
 * `spent(id)` sends its reads back to the database, so a second change of it sees the first.
 */
export async function batchReads(trx: Db, accountIds: string[]): Promise<SheetReads & { spent(id: string): void }> {
  const accounts = new Map((await lockAccounts(trx, accountIds)).map((a) => [a.id, a]))
  const holders = byAccount(await listSlotHoldersOfAccounts(trx, accountIds))
  const users = byAccount(await listUsersOfAccounts(trx, accountIds))
  const fresh = new Set(accountIds)
  return {
    lockSheet: (db, id) => {
      if (!fresh.has(id)) return lockSheet(db, id)
      const account = accounts.get(id)
      return Promise.resolve(account && { account, holders: holders.get(id) ?? [] })
    },
    findUser: (db, accountId, id) =>
      fresh.has(accountId)
        ? Promise.resolve(users.get(accountId)?.find((u) => u.id === id))
        : findUser(db, accountId, id),
    findActiveUserByEmail: (db, accountId, email) =>
      fresh.has(accountId)
        ? Promise.resolve(
            users.get(accountId)?.find((u) => u.status === 'active' && u.email.toLowerCase() === email.toLowerCase()),
          )
        : findActiveUserByEmail(db, accountId, email),
    spent: (id) => void fresh.delete(id),
  }
}
