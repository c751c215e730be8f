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
    ])
    .orderBy('s.slot')
    .orderBy('s.position')
    .execute()

/** `listSlotHolders` of many accounts at once (bulk import, export), by account. */
export const listSlotHoldersOfAccounts = (db: Db, accountIds: string[]): Promise<(SlotHolderRow & { account_id: string })[]> =>
  accountIds.length === 0
    ? Promise.resolve([])
    : db
        .selectFrom('contact_slots as s')
        .leftJoin('users as u', (j) => j.onRef('u.account_id', '=', 's.account_id').onRef('u.id', '=', 's.user_id'))
        .where('s.account_id', 'in', accountIds)
        .select(['s.account_id', 's.slot', 's.position', 's.user_id', 's.email', 's.verification', 's.assigned_at', 'u.email as user_email', 'u.name as user_name'])
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
