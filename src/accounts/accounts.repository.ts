import { sql } from 'kysely'

import { inChunks } from '../db/chunks.ts'
import type { Db } from '../db/database.ts'
import { anyOf } from '../db/keys.ts'
import { ACCOUNT_TREE_MAX_LEVELS } from './account-tree.ts'
import type { AccountRow, NewAccountRow } from './accounts.table.ts'

export const findAccount = (db: Db, id: string): Promise<AccountRow | undefined> =>
  db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst()

/**
 * Locks the account row until the transaction ends. Every change to an account's contact sheet
 * takes this lock first, so writers of one account queue up and each sees the one before it
 * (the limits are checked by the constraints too; the lock makes the answers exact).
 */
export const lockAccount = (db: Db, id: string): Promise<AccountRow | undefined> =>
  db.selectFrom('accounts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

/** `lockAccount`, and whether the account has children: a sheet change tells its descendants (contacts/). */
export const lockAccountOfTree = (db: Db, id: string): Promise<(AccountRow & { has_children: boolean }) | undefined> =>
  db
    .selectFrom('accounts')
    .selectAll()
    .select(sql<boolean>`exists (select 1 from accounts c where c.parent_account_id = accounts.id)`.as('has_children'))
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst()

/** Inserts unless the id exists; returns undefined when it did. */
export const insertAccount = (db: Db, row: NewAccountRow): Promise<AccountRow | undefined> =>
  db
    .insertInto('accounts')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst()

/**
 * The update of `updateAccount`, not yet run: for a caller that writes it in one statement with
 * other rows (db/one-statement.ts) and knows the result itself (the contact sheet, under its lock).
 */
export const accountUpdate = (
  db: Db,
  id: string,
  patch: Partial<
    Pick<
      AccountRow,
      'name' | 'locale' | 'allowed_email_domains' | 'contacts_reviewed_at' | 'parent_account_id' | 'slot_rules'
    >
  >,
  opts: { bumpContactsVersion?: boolean } = {},
) =>
  db
    .updateTable('accounts')
    .set((eb) => ({
      ...patch,
      updated_at: sql<Date>`now()`,
      ...(opts.bumpContactsVersion ? { contacts_version: eb('contacts_version', '+', 1) } : {}),
    }))
    .where('id', '=', id)

export const updateAccount = (
  db: Db,
  id: string,
  patch: Parameters<typeof accountUpdate>[2],
  opts: { bumpContactsVersion?: boolean } = {},
): Promise<AccountRow | undefined> => accountUpdate(db, id, patch, opts).returningAll().executeTakeFirst()

export const deleteAccount = (db: Db, id: string): Promise<{ numDeletedRows: bigint }> =>
  db.deleteFrom('accounts').where('id', '=', id).executeTakeFirstOrThrow()

/** Accounts in id order after `cursor` (keyset pagination: stable under inserts). */
export const listAccounts = (db: Db, page: { limit: number; cursor?: string | undefined }): Promise<AccountRow[]> => {
  let q = db.selectFrom('accounts').selectAll()
  if (page.cursor) q = q.where('id', '>', page.cursor)
  return q.orderBy('id').limit(page.limit).execute()
}

/**
 * Locks the accounts among `ids` that exist, like `lockAccount` for a batch (bulk import). In id
 * order, so that two transactions locking overlapping sets queue up instead of deadlocking.
 */
export const lockAccounts = (db: Db, ids: string[]): Promise<AccountRow[]> =>
  ids.length === 0
    ? Promise.resolve([])
    : db.selectFrom('accounts').selectAll().where('id', '=', anyOf(ids)).orderBy('id').forUpdate().execute()

/** Takes the accounts among `ids` out of their trees (the tree trigger checks nothing for no parent). */
export async function detachAccounts(db: Db, ids: string[]): Promise<void> {
  if (ids.length > 0)
    await db.updateTable('accounts').set({ parent_account_id: null }).where('id', '=', anyOf(ids)).execute()
}

/** Inserts new accounts in bulk (their ids must be free), in chunks under PostgreSQL's parameter limit. */
export const insertAccounts = (db: Db, rows: NewAccountRow[]): Promise<AccountRow[]> =>
  inChunks(rows, (chunk) => db.insertInto('accounts').values(chunk).returningAll().execute())

/**
 * Takes, for this transaction, one account due a review reminder: its contacts were last confirmed
 * (or, never confirmed, it was created) before `due`, and it was not reminded since `gap`. FOR
 * UPDATE SKIP LOCKED, so concurrent workers each take another account and never remind one twice.
 */
export const lockAccountDueForReview = (db: Db, c: { due: Date; gap: Date }): Promise<AccountRow | undefined> =>
  db
    .selectFrom('accounts')
    .selectAll()
    .where(sql<boolean>`coalesce(contacts_reviewed_at, created_at) < ${c.due}`)
    .where((eb) => eb.or([eb('review_reminded_at', 'is', null), eb('review_reminded_at', '<', c.gap)]))
    .orderBy('id')
    .limit(1)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst()

/** Records when a review reminder was queued for the account (`at`: the reminders' clock, which `gap` is read on). */
export async function markReviewReminded(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('accounts').set({ review_reminded_at: at }).where('id', '=', id).execute()
}

/** Whether `ancestorId` is `accountId`'s parent, or its parent's, and so on up to the root. */
export async function isAncestor(db: Db, ancestorId: string, accountId: string): Promise<boolean> {
  const res = await sql<{ found: boolean }>`
    with recursive up (id, parent, n) as (
      select id, parent_account_id, 1 from accounts where id = ${accountId}
      union all
      select a.id, a.parent_account_id, up.n + 1 from accounts a join up on a.id = up.parent
      where up.n < ${sql.lit(ACCOUNT_TREE_MAX_LEVELS)}
    )
    select exists (select 1 from up where parent = ${ancestorId}) as found`.execute(db)
  return res.rows[0]?.found ?? false
}

/** Those of `ids` that are the parent of some account. */
export async function listParentsAmong(db: Db, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await db
    .selectFrom('accounts')
    .select('parent_account_id')
    .distinct()
    .where('parent_account_id', '=', anyOf(ids))
    .execute()
  return rows.map((r) => r.parent_account_id!)
}

/**
 * The common table expression `descendants (id, depth)`, to follow a `with recursive`: every
 * account below `accountId`, with how many levels below it is (1 for a child).
 */
export const descendantsCte = (accountId: string) => sql`
  descendants (id, depth) as (
    select id, 1 from accounts where parent_account_id = ${accountId}
    union all
    select c.id, d.depth + 1 from accounts c join descendants d on c.parent_account_id = d.id
    where d.depth < ${sql.lit(ACCOUNT_TREE_MAX_LEVELS - 1)}
  )`
