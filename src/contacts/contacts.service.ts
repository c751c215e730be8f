import type { Kysely } from 'kysely'

import { notFound } from '../accounts/account-errors.ts'
import { findAccount, lockAccount, updateAccount } from '../accounts/accounts.repository.ts'
import type { AccountRow } from '../accounts/accounts.table.ts'
import { appendAuditEvent } from '../audit/audit.repository.ts'
import type { Database, Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import type { RequestContext } from '../lib/actor.ts'
import type { Clock } from '../lib/clock.ts'
import { AppError, isAppError } from '../lib/errors.ts'
import type { VerificationService } from '../verification/verification.service.ts'
import { afterSheetChange, holdsAddress, newOutsideAddress, type NoticeDeps } from './contact-notices.ts'
import { MAX_BILLING_CONTACTS, type SingleSlot } from './contact-slots.ts'
import * as repo from './contacts.repository.ts'
import type { Contact, ContactSheet, PutContactSheet, SlotInput } from './contacts.schemas.ts'
import { checkIfMatch } from './if-match.ts'
import { diffPlaces, rowsToState, type SheetState, toSheet } from './sheet.ts'
import { batchReads, DATABASE_READS, type SheetReads } from './sheet-reads.ts'

interface WriteOptions {
  ifMatch?: string | undefined
  /** The whole-sheet PUT must name the version it replaces (428 without one). */
  requireIfMatch?: boolean
  /** Where the change reads from: the database, or what a batch read for all its accounts. */
  reads?: SheetReads
}

export type ContactService = ReturnType<typeof createContactService>

export interface ContactServiceDeps {
  db: Kysely<Database>
  clock: Clock
  notices: NoticeDeps
  verification: Pick<VerificationService, 'consume' | 'peek'>
}

export function createContactService({ db, clock, notices, verification }: ContactServiceDeps) {
  /** The user the input names, as a contact of `slot`, or the problem that forbids it. */
  async function resolve(
    trx: Db,
    account: AccountRow,
    slot: SingleSlot | 'billing',
    input: SlotInput,
    current: SheetState,
    reads: SheetReads = DATABASE_READS,
  ): Promise<Contact> {
    if ('userId' in input) {
      const user = await reads.findUser(trx, account.id, input.userId)
      if (!user) {
        throw new AppError('user-not-in-account', { detail: `"${input.userId}" is not a user of this account.` })
      }
      if (user.status !== 'active') {
        throw new AppError('user-not-active', { detail: `${user.name} is deactivated and cannot be a contact.` })
      }
      return { type: 'user', userId: user.id, email: user.email, name: user.name }
    }
    if (slot !== 'security') {
      throw new AppError('external-email-not-allowed', {
        detail: 'Only the security contact may be an email address; choose a user for this contact.',
      })
    }
    // An address that belongs to an active user is stored as that user (docs/PRODUCT.md, "Outside security addresses").
    const user = await reads.findActiveUserByEmail(trx, account.id, input.email)
    if (user) return { type: 'user', userId: user.id, email: user.email, name: user.name }
    const email = input.email.trim()
    const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase()
    if (account.allowed_email_domains && !account.allowed_email_domains.includes(domain)) {
      throw new AppError('email-domain-not-allowed', {
        detail: `The address must be in ${account.allowed_email_domains.join(', ')}.`,
      })
    }
    // Typing the same outside address again keeps its verification.
    const prev = current.security
    if (prev?.type === 'email' && prev.email.toLowerCase() === email.toLowerCase()) return prev
    return { type: 'email', email, verification: 'pending' }
  }

  /**
   * The one way the sheet changes: lock the account, check If-Match, compute the new state, write
   * only what differs, bump the version, set the review date and append one audit event, all in
   * the caller's transaction. A change that changes nothing writes nothing.
   */
  async function change(
    trx: Db,
    ctx: RequestContext,
    accountId: string,
    opts: WriteOptions & { vacatedUserId?: string },
    compute: (state: SheetState, account: AccountRow) => Promise<SheetState> | SheetState,
  ): Promise<{ sheet: ContactSheet; before: SheetState; after: SheetState; changed: boolean }> {
    const reads = opts.reads ?? DATABASE_READS
    const locked = await reads.lockSheet(trx, accountId)
    if (!locked) throw notFound(accountId)
    const { account } = locked
    checkIfMatch(opts.ifMatch, account.contacts_version, opts.requireIfMatch ?? false)
    const before = rowsToState(locked.holders)
    const after = await compute(structuredClone(before), account)
    const { remove, add } = diffPlaces(before, after)
    if (remove.length === 0 && add.length === 0) {
      return { sheet: toSheet(before, account), before, after: before, changed: false }
    }
    // first, as it may refuse the change: nothing of it is written yet (contact-notices.ts)
    const verifyTo = newOutsideAddress(before, after)
    if (verifyTo) await notices.sendVerification(trx, ctx, account, verifyTo)
    const rows = add.map((p) => ({ ...p, account_id: accountId, user_status: p.user_id ? ('active' as const) : null }))
    if (
      remove.length === 1 &&
      rows.length === 1 &&
      remove[0]!.slot === rows[0]!.slot &&
      remove[0]!.position === rows[0]!.position
    ) {
      // One place changes holder (the usual single-slot change): an UPDATE instead of DELETE +
      // INSERT. Only then: when several places change (a billing reorder), updating them one by one
      // could meet the unique (slot, user) key while a user is still in their old place.
      await repo.replaceSlotRow(trx, accountId, rows[0]!)
    } else {
      await repo.deleteSlotRows(trx, accountId, remove)
      await repo.insertSlotRows(trx, rows)
    }
    const updated = await updateAccount(
      trx,
      accountId,
      { contacts_reviewed_at: clock.now() },
      { bumpContactsVersion: true },
    )
    const sheet = toSheet(after, updated!)
    await appendAuditEvent(trx, ctx, {
      accountId,
      action: opts.vacatedUserId ? 'contacts.vacated' : 'contacts.updated',
      before: toSheet(before, account),
      after: sheet,
    })
    await afterSheetChange(trx, ctx, notices, {
      account: updated!,
      before,
      after,
      sheet,
      locales: new Map(locked.holders.flatMap((h) => (h.user_id ? [[h.user_id, h.user_locale] as const] : []))),
      ...(opts.vacatedUserId ? { vacatedUserId: opts.vacatedUserId } : {}),
    })
    return { sheet, before, after, changed: true }
  }

  const write = (
    ctx: RequestContext,
    accountId: string,
    opts: WriteOptions,
    compute: (state: SheetState, account: AccountRow, trx: Db) => Promise<SheetState> | SheetState,
  ): Promise<ContactSheet> =>
    transaction(db, async (trx) => (await change(trx, ctx, accountId, opts, (s, a) => compute(s, a, trx))).sheet)

  /** The state a whole-sheet replacement asks for, or the problem that forbids it. */
  async function replaced(
    trx: Db,
    account: AccountRow,
    input: PutContactSheet,
    current: SheetState,
    reads?: SheetReads,
  ): Promise<SheetState> {
    const billing = input.billing ?? []
    if (billing.length > MAX_BILLING_CONTACTS) {
      throw new AppError('billing-contact-limit', {
        detail: `${billing.length} billing contacts were sent; an account has at most ${MAX_BILLING_CONTACTS}.`,
      })
    }
    const next: SheetState = { ...current, billing: [] }
    for (const [i, ref] of billing.entries()) {
      if (billing.findIndex((b) => b.userId === ref.userId) !== i) {
        throw new AppError('duplicate-contact', {
          detail: `"${ref.userId}" is listed twice among the billing contacts.`,
        })
      }
      next.billing.push(await resolve(trx, account, 'billing', ref, current, reads))
    }
    for (const slot of ['primary', 'decisionMaker', 'onboarding', 'security', 'technicalAdmin'] as const) {
      const ref = input[slot]
      next[slot] = ref ? await resolve(trx, account, slot, ref, current, reads) : null
    }
    return next
  }

  return {
    /**
     * What the verification link's page shows before anything is confirmed: whether the token is
     * live and its address still waits in the security slot, and for whom. Reads only.
     */
    async checkVerificationLink(
      token: string,
    ): Promise<{ ok: boolean; accountName?: string; email?: string; locale: 'en' | 'fi' }> {
      const live = await verification.peek(db, token)
      if (!live) return { ok: false, locale: 'en' }
      const account = await findAccount(db, live.accountId)
      if (!account) return { ok: false, locale: 'en' }
      const sec = rowsToState(await repo.listSlotHolders(db, live.accountId)).security
      const waiting = holdsAddress(sec, live.email) && sec?.type === 'email' && sec.verification === 'pending'
      return { ok: waiting, accountName: account.name, email: live.email, locale: account.locale }
    },

    /**
     * Confirms a verification link (the POST from its page): marks the security slot's address verified, if the slot still
     * holds it, as a change of the sheet (versioned, audited, announced). Answers what to show.
     */
    async verifyEmail(
      token: string,
    ): Promise<{ ok: boolean; accountName?: string; email?: string; locale: 'en' | 'fi' }> {
      return transaction(db, async (trx) => {
        const used = await verification.consume(trx, token)
        if (!used) return { ok: false, locale: 'en' as const }
        const ctx: RequestContext = { actor: { type: 'system', id: 'verification-link' }, requestId: 'verify-email' }
        const holds = (c: Contact | null) => holdsAddress(c, used.email)
        // the address may have been replaced since the mail went out: then nothing is verified
        const { after } = await change(trx, ctx, used.accountId, {}, (state) => {
          if (holds(state.security))
            state.security = { ...(state.security as Contact & { type: 'email' }), verification: 'verified' }
          return state
        })
        const account = await findAccount(trx, used.accountId)
        return {
          ok: holds(after.security),
          accountName: account?.name,
          email: used.email,
          locale: account?.locale ?? 'en',
        }
      })
    },

    /** Sends the verification link again to a pending outside security address. */
    async resendVerification(ctx: RequestContext, accountId: string): Promise<void> {
      await transaction(db, async (trx) => {
        const account = await lockAccount(trx, accountId)
        if (!account) throw notFound(accountId)
        const sec = rowsToState(await repo.listSlotHolders(trx, accountId)).security
        if (sec?.type !== 'email' || sec.verification !== 'pending') {
          throw new AppError('conflict', {
            detail: 'The security contact is not an outside address waiting for verification.',
          })
        }
        await notices.sendVerification(trx, ctx, account, sec.email)
      })
    },

    async getSheet(accountId: string): Promise<ContactSheet> {
      const account = await findAccount(db, accountId)
      if (!account) throw notFound(accountId)
      return toSheet(rowsToState(await repo.listSlotHolders(db, accountId)), account)
    },

    /** Replaces the whole sheet; requires If-Match. */
    replaceSheet(ctx: RequestContext, accountId: string, input: PutContactSheet, ifMatch: string | undefined) {
      return write(ctx, accountId, { ifMatch, requireIfMatch: true }, (current, account, trx) =>
        replaced(trx, account, input, current),
      )
    },

    /**
     * `replaceSheet` of many accounts inside the caller's transaction (the CSV import), with
     * `If-Match: *`: each one a change of its own (checked, versioned, audited, announced), their
     * reads done for all at once. Answers, in order, whether each changed or the problem that
     * refused it. Problems are found before anything of that account is written, so the
     * transaction goes on after one.
     */
    async replaceSheetsIn(trx: Db, ctx: RequestContext, items: { accountId: string; input: PutContactSheet }[]) {
      const reads = await batchReads(
        trx,
        items.map((i) => i.accountId),
      )
      const out: ({ changed: boolean } | { problem: AppError })[] = []
      for (const { accountId, input } of items) {
        try {
          const res = await change(
            trx,
            ctx,
            accountId,
            { ifMatch: '*', requireIfMatch: true, reads },
            (current, account) => replaced(trx, account, input, current, reads),
          )
          out.push({ changed: res.changed })
        } catch (e) {
          if (!isAppError(e)) throw e
          out.push({ problem: e })
        }
        reads.spent(accountId)
      }
      return out
    },

    setSlot(ctx: RequestContext, accountId: string, slot: SingleSlot, input: SlotInput, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch }, async (state, account, trx) => {
        state[slot] = await resolve(trx, account, slot, input, state)
        return state
      })
    },

    clearSlot(ctx: RequestContext, accountId: string, slot: SingleSlot, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch }, (state) => ({ ...state, [slot]: null }))
    },

    addBilling(ctx: RequestContext, accountId: string, userId: string, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch }, async (state, account, trx) => {
        if (state.billing.some((c) => c.type === 'user' && c.userId === userId)) {
          throw new AppError('duplicate-contact', { detail: 'This user is already a billing contact.' })
        }
        if (state.billing.length >= MAX_BILLING_CONTACTS) {
          throw new AppError('billing-contact-limit', {
            detail: `The account has ${MAX_BILLING_CONTACTS} billing contacts; remove one before adding another.`,
          })
        }
        state.billing.push(await resolve(trx, account, 'billing', { userId }, state))
        return state
      })
    },

    removeBilling(ctx: RequestContext, accountId: string, userId: string, ifMatch?: string) {
      return write(ctx, accountId, { ifMatch }, (state) => {
        const billing = state.billing.filter((c) => !(c.type === 'user' && c.userId === userId))
        if (billing.length === state.billing.length) {
          throw new AppError('not-found', { detail: `"${userId}" is not a billing contact of this account.` })
        }
        return { ...state, billing }
      })
    },

    /** "These are up to date": sets the review date and bumps the version, with an audit event. */
    review(ctx: RequestContext, accountId: string): Promise<ContactSheet> {
      return transaction(db, async (trx) => {
        const before = await lockAccount(trx, accountId)
        if (!before) throw notFound(accountId)
        const state = rowsToState(await repo.listSlotHolders(trx, accountId))
        const account = await updateAccount(
          trx,
          accountId,
          { contacts_reviewed_at: clock.now() },
          { bumpContactsVersion: true },
        )
        const sheet = toSheet(state, account!)
        await appendAuditEvent(trx, ctx, {
          accountId,
          action: 'contacts.reviewed',
          before: toSheet(state, before),
          after: sheet,
        })
        return sheet
      })
    },

    /**
     * Empties every slot a user holds, inside the caller's transaction (their deactivation).
     * Returns the slots that were vacated; none means nothing was written.
     */
    async vacateUser(trx: Db, ctx: RequestContext, accountId: string, userId: string) {
      const held = (c: Contact | null) => c?.type === 'user' && c.userId === userId
      const res = await change(trx, ctx, accountId, { vacatedUserId: userId }, (state) => ({
        primary: held(state.primary) ? null : state.primary,
        billing: state.billing.filter((c) => !held(c)),
        decisionMaker: held(state.decisionMaker) ? null : state.decisionMaker,
        onboarding: held(state.onboarding) ? null : state.onboarding,
        security: held(state.security) ? null : state.security,
        technicalAdmin: held(state.technicalAdmin) ? null : state.technicalAdmin,
      }))
      return res
    },
  }
}
