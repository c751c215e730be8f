import type { AccountRow } from '../accounts/accounts.table.ts'
import { listSheetEventsAfter, type SheetEventRow } from '../audit/audit.repository.ts'
import type { Db } from '../db/database.ts'
import { SLOT_LABELS } from '../i18n/labels.ts'
import { AppError } from '../lib/errors.ts'
import type { Conflict } from '../lib/schemas.ts'
import type { SlotName } from './contact-slots.ts'
import type { Contact, ContactSheet } from './contacts.schemas.ts'
import { ifMatches, namedVersion, sheetEtag } from './if-match.ts'

/**
 * How many versions back a stale write is told what changed. A page left open longer than that
 * many changes gets a plain conflict, as does an If-Match that names no version of this sheet.
 */
const LOOK_BACK = 50

/** What a change of a slot is compared by: who holds it (an outside address with its state) and its rule. */
function slotKey(sheet: Partial<ContactSheet> | null, slot: SlotName): string {
  const id = (c: Contact | null | undefined) =>
    !c ? '' : c.type === 'user' ? `u:${c.userId}` : `e:${c.email}:${c.verification}`
  const held = slot === 'billing' ? (sheet?.billing ?? []).map(id).join(',') : id(sheet?.[slot])
  return `${held}|${sheet?.rules?.[slot] ?? 'inherit'}`
}

function conflictOf(e: SheetEventRow, slot: SlotName): Conflict {
  const after = e.after as ContactSheet
  const held = slot === 'billing' ? after.billing : after[slot] ? [after[slot]] : []
  return {
    slot,
    at: e.at.toISOString(),
    actor: { type: e.actor_type, id: e.actor_id, name: e.actor_name },
    holders: held.map((c) => ({ name: c.type === 'user' ? c.name : null, email: c.email })),
    rule: after.rules?.[slot] ?? 'inherit',
  }
}

/**
 * The slots among `writes` that changed after `version`, each with its last change; undefined when
 * the history from there is not all kept (retention, or more than LOOK_BACK changes).
 */
async function conflictsAfter(
  db: Db,
  account: AccountRow,
  version: number,
  writes: readonly SlotName[],
): Promise<Conflict[] | undefined> {
  const missed = account.contacts_version - version
  if (missed <= 0 || missed > LOOK_BACK) return undefined
  const events = await listSheetEventsAfter(db, account.id, version, missed)
  if (events.length < missed) return undefined
  return writes.flatMap((slot) => {
    // newest first: the first change of the slot is its last
    const last = events.find(
      (e) => slotKey(e.before as ContactSheet | null, slot) !== slotKey(e.after as ContactSheet, slot),
    )
    return last ? [conflictOf(last, slot)] : []
  })
}

/** A conflict as a sentence: "Primary account contact: Ben Carter <ben@…>, set by Aino at 2026-…". */
function sentence(c: Conflict): string {
  const held = c.holders.map((h) => (h.name ? `${h.name} <${h.email}>` : h.email)).join(', ') || 'nobody'
  const by = c.actor.name ?? `${c.actor.type} ${c.actor.id}`
  return `${SLOT_LABELS.en[c.slot as SlotName]}: ${held} (rule ${c.rule}), set by ${by} at ${c.at}`
}

/**
 * The If-Match check of a sheet write (RFC 9110, strong comparison) that says what the writer
 * missed: a stale version is refused with 412, and the problem's `conflicts` lists the slots the
 * write would change that others changed meanwhile, with who set what and when. An empty list
 * tells the writer that only other slots changed, so that it may send the same write again with
 * the current ETag; the write itself is not made on a stale version, as If-Match promises.
 */
export async function checkIfMatch(
  db: Db,
  account: AccountRow,
  header: string | undefined,
  opts: { required: boolean; writes: readonly SlotName[] },
): Promise<void> {
  const matches = ifMatches(header, account.contacts_version)
  if (matches === 'absent') {
    if (!opts.required) return
    throw new AppError('precondition-required', {
      detail: "Send the ETag of the sheet you read in an If-Match header, so that nobody else's change is overwritten.",
    })
  }
  if (matches) return
  const current = sheetEtag(account.contacts_version)
  const named = namedVersion(header)
  const conflicts = named === null ? undefined : await conflictsAfter(db, account, named, opts.writes)
  const detail =
    conflicts === undefined
      ? `The sheet is now at version ${current}; read it again and reapply your change.`
      : conflicts.length === 0
        ? `The sheet is now at version ${current}, but nothing this request changes was changed since ${header!.trim()}: send it again with If-Match: ${current}.`
        : `The sheet is now at version ${current}. Changed since ${header!.trim()}: ${conflicts.map(sentence).join('; ')}.`
  throw new AppError('version-mismatch', { detail, headers: { etag: current }, ...(conflicts ? { conflicts } : {}) })
}
