import { sql } from 'kysely'

import { lockAccountOfTree } from '../accounts/accounts.repository.ts'
import type { SuppressionKind } from '../bounces/suppressions.table.ts'
import type { Db } from '../db/database.ts'
import { anyOf, whereKeys } from '../db/keys.ts'
import type { Write } from '../db/one-statement.ts'
import { selectNamedUsers } from '../users/users.repository.ts'
import type { UserStatus } from '../users/users.table.ts'
import { SLOT_NAMES, type SlotName } from './contact-slots.ts'
import { effectiveHoldersCtes, type InheritedHolder, inheritedHoldersSelect } from './effective-holders.repository.ts'
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
  /** Why the holder's address is on the account's suppression list, and since when (null: it is not). */
  suppressed_kind: SuppressionKind | null
  suppressed_reason: string | null
  suppressed_at: Date | null
}

/** Slot rows joined to their users' current address, name and locale: what both lists below select. */
const selectHolders = (db: Db) =>
  db
    .selectFrom('contact_slots as s')
    .leftJoin('users as u', (j) => j.onRef('u.account_id', '=', 's.account_id').onRef('u.id', '=', 's.user_id'))
    // a holder whose mail bounced shows it in the sheet (bounces/)
    .leftJoin('suppressions as x', (j) =>
      j.onRef('x.account_id', '=', 's.account_id').on('x.email', '=', sql<string>`lower(coalesce(u.email, s.email))`),
    )
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
      'x.kind as suppressed_kind',
      'x.reason as suppressed_reason',
      'x.at as suppressed_at',
    ])

/** Every filled slot of the account, billing in order. */
export const listSlotHolders = (db: Db, accountId: string): Promise<SlotHolderRow[]> =>
  selectHolders(db).where('s.account_id', '=', accountId).orderBy('s.slot').orderBy('s.position').execute()

/**
 * `listSlotHolders` of an account with a parent, and what it inherits from its ancestors, in one
 * statement: the read of a child's sheet is then as many round trips as a flat account's. The two
 * kinds of row share the columns of `selectHolders` (the own rows' `o.*`, in its order), an
 * inherited one with its user's address and name where an own one has them, and the source.
 */
export async function listSlotHoldersWithInherited(
  db: Db,
  accountId: string,
): Promise<{ own: SlotHolderRow[]; inherited: InheritedHolder[] }> {
  const own = selectHolders(db).where('s.account_id', '=', accountId)
  const res = await sql<SlotHolderRow & { distance: number; source_account_id: string; source_account_name: string }>`
    with recursive accts as (select ${accountId}::text as id),
    ${effectiveHoldersCtes(SLOT_NAMES)}
    select o.*, 0 as distance, null::text as source_account_id, null::text as source_account_name
    from ${own} o
    union all
    select i.slot, i.position, i.user_id, null, null, null, i.email, i.name, null, null, null, null,
      i.distance, i.source_account_id, i.source_account_name
    from (${inheritedHoldersSelect}) i
    order by distance, slot, position`.execute(db)
  const inherited = res.rows
    .filter((r) => r.distance > 0)
    .map((r) => ({
      slot: r.slot,
      position: r.position,
      user_id: r.user_id,
      email: r.user_email!,
      name: r.user_name,
      source_account_id: r.source_account_id,
      source_account_name: r.source_account_name,
      distance: r.distance,
    }))
  const ownRows = res.rows
    .filter((r) => r.distance === 0)
    .map(({ distance: _d, source_account_id: _s, source_account_name: _n, ...row }) => row)
  return { own: ownRows, inherited }
}

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
  const locked = await lockAccountOfTree(db, accountId)
  if (!locked) return undefined
  const { has_children: hasChildren, ...account } = locked
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
      sql<SuppressionKind | null>`null`.as('suppressed_kind'),
      sql<string | null>`null`.as('suppressed_reason'),
      sql<Date | null>`null`.as('suppressed_at'),
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
  return { account, holders, users, hasChildren }
}

/**
 * A slot row's `user_status`: 'active' for a user, so that its foreign key (account, user, status)
 * to the users table holds only while the user is active.
 */
const userStatus = (p: Place) => (p.user_id ? ('active' as const) : null)

/** Puts a new holder into one place that has one already: the single-slot change, in one statement. */
const slotRowReplace = (db: Db, accountId: string, p: Place) =>
  db
    .updateTable('contact_slots')
    .set({
      user_id: p.user_id,
      user_status: userStatus(p),
      email: p.email,
      verification: p.verification,
      assigned_at: sql<Date>`now()`,
    })
    .where('account_id', '=', accountId)
    .where('slot', '=', p.slot)
    .where('position', '=', p.position)

/** Empties the given (slot, position) places. */
const slotRowsDelete = (db: Db, accountId: string, places: Place[]) =>
  db
    .deleteFrom('contact_slots')
    .where('account_id', '=', accountId)
    .where((eb) =>
      whereKeys(
        eb,
        places.map((p) => ({ slot: p.slot, position: p.position })),
      ),
    )

/** Fills the given places; the lists go as arrays, so the text is the same for any number of them. */
const slotRowsInsert = (accountId: string, places: Place[]) => sql`
  insert into contact_slots (account_id, slot, position, user_id, user_status, email, verification)
  select ${accountId}, s, p, u, us, e, v
  from unnest(${places.map((p) => p.slot)}::text[], ${places.map((p) => p.position)}::int[],
    ${places.map((p) => p.user_id)}::text[], ${places.map(userStatus)}::text[],
    ${places.map((p) => p.email)}::text[], ${places.map((p) => p.verification)}::text[]) as x(s, p, u, us, e, v)`

/**
 * The writes that turn the stored places `remove` into `add` (`diffPlaces`), to go into the
 * caller's one statement (db/one-statement.ts): one place that changes holder (the usual
 * single-slot change) is an UPDATE; places only emptied are a DELETE, places only filled an INSERT.
 *
 * When places are both emptied and filled (a billing reorder, a whole-sheet replacement), the
 * DELETE comes back apart, as `first`, for the caller to run as a statement of its own before:
 * in one statement the INSERT might run before the DELETE (their order is unspecified) and meet
 * the unique (slot, position) or (slot, user) key of a row that is still there. Nor are several
 * places updated one by one: one could meet the (slot, user) key while its user is still in their
 * old place.
 */
export function placeWrites(
  db: Db,
  accountId: string,
  remove: Place[],
  add: Place[],
): { first: Write | undefined; writes: Write[] } {
  const [r, a] = [remove[0], add[0]]
  if (remove.length === 1 && add.length === 1 && r!.slot === a!.slot && r!.position === a!.position)
    return { first: undefined, writes: [slotRowReplace(db, accountId, a!)] }
  const del = remove.length > 0 ? slotRowsDelete(db, accountId, remove) : undefined
  const ins = add.length > 0 ? slotRowsInsert(accountId, add) : undefined
  if (del && ins) return { first: del, writes: [ins] }
  return { first: undefined, writes: del ? [del] : ins ? [ins] : [] }
}
