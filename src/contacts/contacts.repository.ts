import { sql } from 'kysely'

import { lockAccount } from '../accounts/accounts.repository.ts'
import type { AccountRow } from '../accounts/accounts.table.ts'
import type { Db } from '../db/database.ts'
import type { SlotName } from './contact-slots.ts'
import type { NewContactSlotRow } from './contacts.table.ts'

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

/** Every filled slot of the account, billing in order. */
export const listSlotHolders = (db: Db, accountId: string): Promise<SlotHolderRow[]> =>
  db
    .selectFrom('contact_slots as s')
    .leftJoin('users as u', (j) => j.onRef('u.account_id', '=', 's.account_id').onRef('u.id', '=', 's.user_id'))
    .where('s.account_id', '=', accountId)
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
    .orderBy('s.slot')
    .orderBy('s.position')
    .execute()

/**
 * Locks the account row until the transaction ends, then reads its slot holders. Two statements,
 * not one joined `for update of a`: a statement that waited for the lock still reads the joined
 * slot rows as they were before the lock holder's change (PostgreSQL re-checks only the locked
 * row), so the second writer would decide on a stale sheet. test/db/concurrency.test.ts shows it.
 */
export async function lockSheet(
  db: Db,
  accountId: string,
): Promise<{ account: AccountRow; holders: SlotHolderRow[] } | undefined> {
  const account = await lockAccount(db, accountId)
  return account && { account, holders: await listSlotHolders(db, accountId) }
}

/** Puts a new holder into one place that has one already: the single-slot change, in one statement. */
export async function replaceSlotRow(
  db: Db,
  accountId: string,
  row: Omit<NewContactSlotRow, 'account_id'>,
): Promise<void> {
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

/** `listSlotHolders` of many accounts at once (bulk import, export), by account. */
export const listSlotHoldersOfAccounts = (
  db: Db,
  accountIds: string[],
): Promise<(SlotHolderRow & { account_id: string })[]> =>
  accountIds.length === 0
    ? Promise.resolve([])
    : db
        .selectFrom('contact_slots as s')
        .leftJoin('users as u', (j) => j.onRef('u.account_id', '=', 's.account_id').onRef('u.id', '=', 's.user_id'))
        .where('s.account_id', 'in', accountIds)
        .select([
          's.account_id',
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
        .orderBy('s.account_id')
        .orderBy('s.slot')
        .orderBy('s.position')
        .execute()

/** Empties the given (slot, position) places. */
export async function deleteSlotRows(db: Db, accountId: string, places: { slot: SlotName; position: number }[]) {
  if (places.length === 0) return
  await db
    .deleteFrom('contact_slots')
    .where('account_id', '=', accountId)
    .where((eb) => eb.or(places.map((p) => eb.and([eb('slot', '=', p.slot), eb('position', '=', p.position)]))))
    .execute()
}

export async function insertSlotRows(db: Db, rows: NewContactSlotRow[]) {
  if (rows.length === 0) return
  await db.insertInto('contact_slots').values(rows).execute()
}

/** The slots a user holds in an account. */
export const listSlotsOfUser = (db: Db, accountId: string, userId: string) =>
  db
    .selectFrom('contact_slots')
    .select(['slot', 'position'])
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .execute()
