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

/**
 * The account's active super admins whose address is not suppressed: whom the service tells of
 * something they should act on (vacated slots, a recipient who says they are the wrong one). A suppressed
 * address gets none of the account's mail, ours included.
 */
export const listAdminsToTell = (db: Db, accountId: string): Promise<UserRow[]> =>
  db
    .selectFrom('users as u')
    .selectAll('u')
    .where('u.account_id', '=', accountId)
    .where('u.status', '=', 'active')
    .where('u.role', '=', 'super_admin')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('suppressions as x')
            .select('x.email')
            .whereRef('x.account_id', '=', 'u.account_id')
            .where(sql<boolean>`x.email = lower(u.email)`),
        ),
      ),
    )
    .orderBy('u.id')
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
