import { notFound } from '../accounts/account-errors.ts'
import { accountUpdate, findAccount } from '../accounts/accounts.repository.ts'
import type { AccountRow } from '../accounts/accounts.table.ts'
import { auditEventInsert } from '../audit/audit.repository.ts'
import type { Db } from '../db/database.ts'
import { executeAsOne } from '../db/one-statement.ts'
import { transaction } from '../db/transaction.ts'
import type { RequestContext } from '../lib/actor.ts'
import type { Clock } from '../lib/clock.ts'
import type { VerificationService } from '../verification/verification.service.ts'
import { holdsAddress, newOutsideAddress, sheetChangeNotices } from './contact-notices.ts'
import { type SingleSlot, SLOT_NAMES, type SlotName } from './contact-slots.ts'
import * as repo from './contacts.repository.ts'
import type { ContactSheet, PutContactSheet, SlotInput } from './contacts.schemas.ts'
import { listInheritedHolders, listInheritingDescendants } from './effective-holders.repository.ts'
import {
  changedSlots,
  diffPlaces,
  type Edit,
  inheritedOf,
  type Named,
  rowsToState,
  sameRules,
  type SheetData,
  storedRules,
  toSheet,
} from './sheet.ts'
import { checkIfMatch } from './sheet-conflicts.ts'
import * as edit from './sheet-edits.ts'
import type { SlotRule } from './slot-rules.ts'

export type ContactService = ReturnType<typeof createContactService>

export interface ContactServiceDeps {
  db: Db
  clock: Clock
  verification: Pick<VerificationService, 'sendVerification'>
}

interface ChangeOptions {
  ifMatch?: string | undefined
  /** The whole-sheet PUT must name the version it replaces (428 without one). */
  requireIfMatch?: boolean
  /** The slots the write changes, which a stale If-Match is told about (sheet-conflicts.ts); all when unsaid. */
  writes?: readonly SlotName[]
  /** The user whose deactivation this change is: the audit action and the event say so. */
  vacatedUserId?: string
  /** "These are up to date": edits no place, and is still versioned, dated and audited. */
  review?: boolean
}

/**
 * The sheet a write answers with what the account inherits, when it has a parent: one more read,
 * which an account without a parent (most) does not pay for.
 */
async function withInherited(db: Db, account: AccountRow, sheet: ContactSheet): Promise<ContactSheet> {
  if (account.parent_account_id === null) return sheet
  return { ...sheet, inherited: inheritedOf(await listInheritedHolders(db, account.id)) }
}

/**
 * The contact sheet's writes. Each locks the account, reads its slots and the users its input
 * names (`load`), computes the new state with an edit of sheet-edits.ts, and hands both to
 * `change`, the one path that writes.
 */
export function createContactService({ db, clock, verification }: ContactServiceDeps) {
  /**
   * The one way the sheet changes, on what was read under the account's lock: check If-Match,
   * compute the new state, write only what differs, bump the version, set the review date and
   * append one audit event, all in the caller's transaction. A change that changes nothing writes
   * nothing, unless it is a review.
   *
   * The writes go as one statement (db/one-statement.ts), with the event and the mails the change
   * sets off (contact-notices.ts): one round trip. What the old account update read back is known
   * here: under the lock the version is the read one plus one, and the review date is the clock's.
   */
  async function change(trx: Db, ctx: RequestContext, data: SheetData, opts: ChangeOptions, compute: Edit) {
    const { account, holders } = data
    await checkIfMatch(trx, account, opts.ifMatch, {
      required: opts.requireIfMatch ?? false,
      writes: opts.writes ?? SLOT_NAMES,
    })
    const before = rowsToState(holders, account.slot_rules)
    const after = compute(structuredClone(before), data)
    const { remove, add } = diffPlaces(before, after)
    const rulesChanged = !sameRules(before.rules, after.rules)
    const edits = remove.length > 0 || add.length > 0 || rulesChanged
    if (!edits && !opts.review)
      return {
        sheet: await withInherited(trx, account, toSheet(before, account)),
        before,
        after: before,
        changed: false,
      }
    // first, as it may refuse the change: nothing of it is written yet (contact-notices.ts)
    // the descendants whose mail the change reaches, named in its event (a flat account reads nothing)
    const below =
      data.hasChildren === false
        ? []
        : await listInheritingDescendants(trx, account.id, changedSlots(before, after, [...remove, ...add]))
    const verifyTo = newOutsideAddress(before, after)
    if (verifyTo) await verification.sendVerification(trx, ctx, account, verifyTo)
    const places = repo.placeWrites(trx, account.id, remove, add)
    if (places.first) await executeAsOne(trx, [places.first])
    const updated = { contacts_version: account.contacts_version + 1, contacts_reviewed_at: clock.now() }
    const sheet = toSheet(after, updated)
    const action = opts.review ? 'contacts.reviewed' : opts.vacatedUserId ? 'contacts.vacated' : 'contacts.updated'
    const entry = { accountId: account.id, action, before: toSheet(before, account), after: sheet } as const
    const locales = new Map(holders.flatMap((h) => (h.user_id ? [[h.user_id, h.user_locale] as const] : [])))
    const vacated = opts.vacatedUserId ? { vacatedUserId: opts.vacatedUserId } : {}
    await executeAsOne(trx, [
      ...places.writes,
      accountUpdate(
        trx,
        account.id,
        {
          contacts_reviewed_at: updated.contacts_reviewed_at,
          ...(rulesChanged ? { slot_rules: storedRules(after.rules) } : {}),
        },
        { bumpContactsVersion: true },
      ),
      auditEventInsert(trx, ctx, entry),
      ...(edits
        ? sheetChangeNotices(ctx, { account, before, after, sheet, locales, users: data.users, below, ...vacated })
        : []),
    ])
    return { sheet: await withInherited(trx, account, sheet), before, after, changed: true }
  }

  /**
   * Locks the account until the transaction ends, then reads its slots and the users `named`
   * names, and the author's own row when a user (contact-notices.ts names them in mail).
   */
  async function load(trx: Db, ctx: RequestContext, accountId: string, named: Named = []): Promise<SheetData> {
    const { ids, emails } = edit.namedBy(named)
    // the author's own row, when they are a user of this account (not an admin of its parent)
    const author = ctx.actor.type === 'user' && ctx.actor.accountId === accountId ? [ctx.actor.id] : []
    const data = await repo.lockSheet(trx, accountId, { ids: [...ids, ...author], emails })
    if (!data) throw notFound(accountId)
    return data
  }

  /** A change of one account, in a transaction of its own: what the API's writes are. */
  const write = (ctx: RequestContext, accountId: string, opts: ChangeOptions, named: Named, compute: Edit) =>
    transaction(
      db,
      async (trx) => (await change(trx, ctx, await load(trx, ctx, accountId, named), opts, compute)).sheet,
    )

  return {
    async getSheet(accountId: string): Promise<ContactSheet> {
      const account = await findAccount(db, accountId)
      if (!account) throw notFound(accountId)
      // a child's own holders and its inherited ones in one read (the flat path has no walk to do)
      if (account.parent_account_id === null)
        return toSheet(rowsToState(await repo.listSlotHolders(db, accountId), account.slot_rules), account)
      const { own, inherited } = await repo.listSlotHoldersWithInherited(db, accountId)
      return { ...toSheet(rowsToState(own, account.slot_rules), account), inherited: inheritedOf(inherited) }
    },

    /** Replaces the whole sheet; requires If-Match. */
    replaceSheet(ctx: RequestContext, accountId: string, input: PutContactSheet, ifMatch: string | undefined) {
      const opts = { ifMatch, requireIfMatch: true }
      return write(ctx, accountId, opts, edit.sheetInputs(input), edit.replaced(input))
    },

    /**
     * `replaceSheet` with `If-Match: *` inside the caller's transaction, on `data` the caller read
     * (the CSV import reads a whole batch's at once: import/import-sheets.ts), or else read here.
     * Any problem is found before anything is written, so the transaction can go on after one.
     */
    async replaceSheetIn(trx: Db, ctx: RequestContext, accountId: string, input: PutContactSheet, data?: SheetData) {
      data ??= await load(trx, ctx, accountId, edit.sheetInputs(input))
      const { changed } = await change(trx, ctx, data, { ifMatch: '*', requireIfMatch: true }, edit.replaced(input))
      return { changed }
    },

    setSlot(ctx: RequestContext, accountId: string, slot: SingleSlot, input: SlotInput, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch, writes: [slot] }, [input], edit.slotSet(slot, input))
    },

    clearSlot(ctx: RequestContext, accountId: string, slot: SingleSlot, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch, writes: [slot] }, [], edit.slotCleared(slot))
    },

    addBilling(ctx: RequestContext, accountId: string, userId: string, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch, writes: ['billing'] }, [{ userId }], edit.billingAdded(userId))
    },

    removeBilling(ctx: RequestContext, accountId: string, userId: string, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch, writes: ['billing'] }, [], edit.billingRemoved(userId))
    },

    /** Puts user `by` in the billing place that `userId` holds, keeping the order. */
    replaceBilling(ctx: RequestContext, accountId: string, userId: string, by: string, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch, writes: ['billing'] }, [{ userId: by }], edit.billingReplaced(userId, by))
    },

    /** Sets how one slot composes with the parent account's (slot-rules.ts). */
    setRule(ctx: RequestContext, accountId: string, slot: SlotName, rule: SlotRule, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch, writes: [slot] }, [], edit.ruleSet(slot, rule))
    },

    /** "These are up to date": sets the review date and bumps the version, with an audit event. */
    review(ctx: RequestContext, accountId: string): Promise<ContactSheet> {
      return write(ctx, accountId, { review: true }, [], (state) => state)
    },

    /**
     * Empties every slot a user holds, inside the caller's transaction (their deactivation).
     * Answers what it changed; `changed: false` means nothing was written.
     */
    async vacateUser(trx: Db, ctx: RequestContext, accountId: string, userId: string) {
      return change(trx, ctx, await load(trx, ctx, accountId), { vacatedUserId: userId }, edit.userVacated(userId))
    },

    /**
     * Marks the security slot's outside address `email` verified, inside the caller's transaction
     * (the verification link's confirmation), as a change of the sheet: versioned, audited,
     * announced. Answers whether the slot holds `email` (verified now), and the account.
     */
    async markSecurityVerified(trx: Db, ctx: RequestContext, accountId: string, email: string) {
      const data = await load(trx, ctx, accountId)
      const { after } = await change(trx, ctx, data, {}, edit.securityVerified(email))
      return { holds: holdsAddress(after.security, email), account: data.account }
    },

    /**
     * Makes the security slot's outside address `email` pending again and sends it a new
     * verification link, inside the caller's transaction (its suppression was cleared: it must
     * show it works before security notices go to it). Answers whether the slot holds it.
     */
    async reverifySecurity(trx: Db, ctx: RequestContext, accountId: string, email: string) {
      const { after } = await change(trx, ctx, await load(trx, ctx, accountId), {}, edit.securityUnverified(email))
      return holdsAddress(after.security, email)
    },

    /** The outside address in the security slot that waits for verification, if there is one. */
    async pendingSecurityAddress(trx: Db, accountId: string): Promise<string | undefined> {
      const sec = rowsToState(await repo.listSlotHolders(trx, accountId), {}).security
      return sec?.type === 'email' && sec.verification === 'pending' ? sec.email : undefined
    },
  }
}
