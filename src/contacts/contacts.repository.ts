import { sql } from 'kysely'

import { lockAccount } from '../accounts/accounts.repository.ts'
import type { Db } from '../db/database.ts'
import { anyOf, whereKeys } from '../db/keys.ts'
import { selectNamedUsers } from '../users/users.repository.ts'
import type { UserStatus } from '../users/users.table.ts'
import type { SlotName } from './contact-slots.ts'
import type { NewContactSlotRow } from './contacts.table.ts'
import type { NamedUser, Place, SheetData } from './sheet.ts'

/** A slot row with its user's current address and name (null for an outside address). */
export interface SlotHolderRow {
  slot: SlotName
  position: number
  user_id: string | null
  email: string | null
  verification: 'pending' | 'verified' | null
  assigned_at: Date
  user_email: string | null
  user_name: string | null
  /** The user's own locale, for mail to them (null: the account's). */
  user_locale: 'en' | 'fi' | null
}

/** Slot rows joined to their users' current address, name and locale: what both lists below select. */
const selectHolders = (db: Db) =>
  db
    .selectFrom('contact_slots as s')
    .leftJoin('users as u', (j) => j.onRef('u.account_id', '=', 's.account_id').onRef('u.id', '=', 's.user_id'))
    .select([
      's.slot',
      's.position',
      's.user_id',
      's.email',
      's.verification',
      's.assigned_at',
      'u.email as user_email',
      'u.name as user_name',
      'u.locale as user_locale',
    ])

/** Every filled slot of the account, billing in order. */
export const listSlotHolders = (db: Db, accountId: string): Promise<SlotHolderRow[]> =>
  selectHolders(db).where('s.account_id', '=', accountId).orderBy('s.slot').orderBy('s.position').execute()

/** `listSlotHolders` of many accounts at once (bulk import, export), by account. */
export const listSlotHoldersOfAccounts = (
  db: Db,
  accountIds: string[],
): Promise<(SlotHolderRow & { account_id: string })[]> =>
  accountIds.length === 0
    ? Promise.resolve([])
    : selectHolders(db)
        .select('s.account_id')
        .where('s.account_id', '=', anyOf(accountIds))
        .orderBy('s.account_id')
        .orderBy('s.slot')
        .orderBy('s.position')
        .execute()

/** A row of the sheet's read: a slot holder, or (no slot) a user the write names. */
type SheetReadRow = { [K in keyof SlotHolderRow]: SlotHolderRow[K] | null } & { user_status: UserStatus | null }

/**
 * Locks the account row until the transaction ends, then reads its slot holders and the users the
 * write names (`named`, users.repository.ts `selectNamedUsers`), in one query. Two statements,
 * not one joined `for update of a`: a statement that waited for the lock still reads the joined
 * slot rows as they were before the lock holder's change (PostgreSQL re-checks only the locked
 * row), so the second writer would decide on a stale sheet. test/db/concurrency.test.ts shows it.
 * At read committed the read takes a snapshot of its own, after the lock was granted, and sees the
 * rows of the writer before; at the higher levels a writer that waited fails instead (40001) and
 * runs again (db/transaction.ts).
 */
export async function lockSheet(
  db: Db,
  accountId: string,
  named: { ids: string[]; emails: string[] },
): Promise<SheetData | undefined> {
  const account = await lockAccount(db, accountId)
  if (!account) return undefined
  // one union: the named users in the holders' columns, with no slot, then the holders (a union
  // matches columns by position: the order is selectHolders')
  const rows = await selectNamedUsers(db, accountId, named)
    .select([
      sql<SlotName | null>`null`.as('slot'),
      sql<number | null>`null`.as('position'),
      'users.id as user_id',
      sql<string | null>`null`.as('email'),
      sql<'pending' | 'verified' | null>`null`.as('verification'),
      sql<Date | null>`null`.as('assigned_at'),
      'users.email as user_email',
      'users.name as user_name',
      'users.locale as user_locale',
      'users.status as user_status',
    ])
    .$castTo<SheetReadRow>()
    .unionAll(selectHolders(db).select('u.status as user_status').where('s.account_id', '=', accountId))
    .execute()
  const holders: SlotHolderRow[] = []
  const users: NamedUser[] = []
  for (const { user_status, ...row } of rows) {
    if (row.slot === null)
      users.push({ id: row.user_id!, email: row.user_email!, name: row.user_name!, status: user_status! })
    else holders.push(row as SlotHolderRow)
  }
  return { account, holders, users }
}

/** Puts a new holder into one place that has one already: the single-slot change, in one statement. */
async function replaceSlotRow(db: Db, accountId: string, row: Omit<NewContactSlotRow, 'account_id'>): Promise<void> {
  await db
    .updateTable('contact_slots')
    .set({
      user_id: row.user_id ?? null,
      user_status: row.user_status ?? null,
      email: row.email ?? null,
      verification: row.verification ?? null,
      assigned_at: sql<Date>`now()`,
    })
    .where('account_id', '=', accountId)
    .where('slot', '=', row.slot)
    .where('position', '=', row.position ?? 0)
    .execute()
}

/** Empties the given (slot, position) places. */
async function deleteSlotRows(db: Db, accountId: string, places: { slot: SlotName; position: number }[]) {
  if (places.length === 0) return
  await db
    .deleteFrom('contact_slots')
    .where('account_id', '=', accountId)
    .where((eb) =>
      whereKeys(
        eb,
        places.map((p) => ({ slot: p.slot, position: p.position })),
      ),
    )
    .execute()
}

async function insertSlotRows(db: Db, rows: NewContactSlotRow[]) {
  if (rows.length === 0) return
  await db.insertInto('contact_slots').values(rows).execute()
}

/**
 * Writes the difference between two states of the sheet (`diffPlaces`): the places to empty, and
 * the places to fill. One place that changes holder (the usual single-slot change) is one UPDATE
 * instead of DELETE + INSERT. Only then: when several places change (a billing reorder), updating
 * them one by one could meet the unique (slot, user) key while a user is still in their old place.
 */
export async function writePlaces(db: Db, accountId: string, remove: Place[], add: Place[]): Promise<void> {
  const rows = add.map((p) => ({ ...p, account_id: accountId, user_status: p.user_id ? ('active' as const) : null }))
  const samePlace = remove[0]?.slot === rows[0]?.slot && remove[0]?.position === rows[0]?.position
  if (remove.length === 1 && rows.length === 1 && samePlace) {
    await replaceSlotRow(db, accountId, rows[0]!)
  } else {
    await deleteSlotRows(db, accountId, remove)
    await insertSlotRows(db, rows)
  }
}
