import { sql } from 'kysely'

import { inChunks } from '../db/chunks.ts'
import type { Db } from '../db/database.ts'
import { anyOf } from '../db/keys.ts'
import type { NewUserRow, UserRow } from './users.table.ts'

export const findUser = (db: Db, accountId: string, id: string): Promise<UserRow | undefined> =>
  db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst()

/**
 * The users of the account that a contact-sheet write may name: those with one of `ids` (any
 * status), and the active ones with one of `emails`, compared without case (as the index that
 * keeps one active user per address compares them). Without a selection: the contact sheet's read
 * selects their columns beside its slots' (contacts.repository.ts `lockSheet`). Both lists are
 * always there, empty or not, so the statement has one text (db/prepared-statements.ts).
 */
export const selectNamedUsers = (db: Db, accountId: string, named: { ids: string[]; emails: string[] }) =>
  db
    .selectFrom('users')
    .where('users.account_id', '=', accountId)
    .where((eb) =>
      eb.or([
        eb('users.id', '=', anyOf(named.ids)),
        eb.and([
          eb('users.status', '=', 'active'),
          eb(eb.fn('lower', ['users.email']), '=', anyOf(named.emails.map((e) => e.toLowerCase()))),
        ]),
      ]),
    )

export const insertUser = (db: Db, row: NewUserRow): Promise<UserRow> =>
  db.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow()

export const updateUser = (
  db: Db,
  accountId: string,
  id: string,
  patch: Partial<Pick<UserRow, 'email' | 'name' | 'role' | 'status' | 'locale'>>,
): Promise<UserRow> =>
  db
    .updateTable('users')
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()

export const listUsers = (
  db: Db,
  accountId: string,
  page: { limit: number; cursor?: string | undefined; status?: 'active' | 'deactivated' | undefined },
): Promise<UserRow[]> => {
  let q = db.selectFrom('users').selectAll().where('account_id', '=', accountId)
  if (page.cursor) q = q.where('id', '>', page.cursor)
  if (page.status) q = q.where('status', '=', page.status)
  return q.orderBy('id').limit(page.limit).execute()
}

/** Every active super admin of the account: the people told when its contacts need them. */
export const listActiveSuperAdmins = (db: Db, accountId: string): Promise<UserRow[]> =>
  db
    .selectFrom('users')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('status', '=', 'active')
    .where('role', '=', 'super_admin')
    .orderBy('id')
    .execute()

/** Every user of these accounts, by account then id (bulk import and export). */
export const listUsersOfAccounts = (db: Db, accountIds: string[]): Promise<UserRow[]> =>
  accountIds.length === 0
    ? Promise.resolve([])
    : db
        .selectFrom('users')
        .selectAll()
        .where('account_id', '=', anyOf(accountIds))
        .orderBy('account_id')
        .orderBy('id')
        .execute()

/** Inserts new users in bulk (ids and active addresses must be free), in chunks under PostgreSQL's parameter limit. */
export const insertUsers = (db: Db, rows: NewUserRow[]): Promise<UserRow[]> =>
  inChunks(rows, (chunk) => db.insertInto('users').values(chunk).returningAll().execute())
