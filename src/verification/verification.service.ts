import { notFound } from '../accounts/account-errors.ts'
import { findAccount, lockAccount } from '../accounts/accounts.repository.ts'
import type { AccountRow } from '../accounts/accounts.table.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import type { RequestContext } from '../lib/actor.ts'
import type { Clock } from '../lib/clock.ts'
import type { SecretDeriver } from '../lib/derived-secrets.ts'
import { AppError } from '../lib/errors.ts'
import { hashToken } from '../lib/hash.ts'
import { newId } from '../lib/ids.ts'
import { queueMailTo } from '../mail/queue-system-mail.ts'
import * as repo from './verification.repository.ts'
import { countVerificationMail } from './verification-limits.ts'
import { TOKEN, TOKEN_MARK, verificationIdFor, VERIFY_EMAIL_CATEGORY } from './verification-token.ts'
import { VERIFICATION_TTL_MS } from './verification-ttl.ts'

export type VerificationService = ReturnType<typeof createVerificationService>

/**
 * Outside security contacts prove their address by opening a link and confirming (the link's
 * page posts the token: verification.routes.ts). The token, like a session's,
 * carries its account id, is derived from SECRET_KEY and stored only hashed, and the queued mail
 * holds a mark for it that only its own token fills (verification-token.ts); it is single-use,
 * valid seven days, and a new one retires the old ones. This factory only makes and checks
 * tokens; the link's flows are `createVerificationLinkService`'s, below.
 */
export function createVerificationService({
  clock,
  publicUrl,
  secrets,
}: {
  clock: Clock
  publicUrl: string
  secrets: Pick<SecretDeriver, 'verificationToken'>
}) {
  async function peek(db: Db, token: string): Promise<{ accountId: string; id: string; email: string } | undefined> {
    const m = TOKEN.exec(token)
    if (!m) return undefined
    const accountId = m[1]!
    const v = await repo.findLiveVerification(db, accountId, hashToken(token), clock.now())
    return v ? { accountId, id: v.id, email: v.email } : undefined
  }

  return {
    /**
     * Queues a verification mail for `email`, in the caller's transaction, or throws
     * `verification-mail-limit` (verification-limits.ts) before writing anything.
     */
    async sendVerification(trx: Db, ctx: RequestContext, account: AccountRow, email: string): Promise<void> {
      const now = clock.now()
      await countVerificationMail(trx, ctx, account.id, email, now)
      await repo.retireVerifications(trx, account.id, email, now)
      // the mail's id gives the verification's: the worker derives the token from the mail, not its text
      const notificationId = newId('ntf')
      const id = verificationIdFor(notificationId)
      const token = secrets.verificationToken(account.id, id)
      const expiresAt = new Date(now.getTime() + VERIFICATION_TTL_MS)
      await repo.insertVerification(trx, {
        account_id: account.id,
        id,
        email,
        token_hash: hashToken(token),
        expires_at: expiresAt,
      })
      await queueMailTo(trx, ctx, {
        id: notificationId,
        accountId: account.id,
        category: VERIFY_EMAIL_CATEGORY,
        to: { email, name: null },
        locale: account.locale,
        mail: {
          kind: 'verify-email',
          accountName: account.name,
          email,
          link: `${publicUrl}/v1/verify-email?token=${TOKEN_MARK}`,
          expiresAt,
        },
      })
    },

    /** A live token's account and address, leaving it live; undefined when it is unknown, used or expired. */
    peek,

    /** Uses up a live token: its account and address, or undefined when it is unknown, used or expired. */
    async consume(trx: Db, token: string): Promise<{ accountId: string; email: string } | undefined> {
      const v = await peek(trx, token)
      if (!v) return undefined
      await repo.markVerificationUsed(trx, v.accountId, v.id, clock.now())
      return { accountId: v.accountId, email: v.email }
    },
  }
}

/** The link a pending outside security address was sent; null times: none is live (it was used up). */
export interface PendingLink {
  email: string
  sentAt: string | null
  expiresAt: string | null
}

const notPending = () =>
  new AppError('conflict', { detail: 'The security contact is not an outside address waiting for verification.' })

/** What the verification link's pages show: whether it worked, and for which address and account. */
export interface LinkAnswer {
  ok: boolean
  accountName?: string
  email?: string
  locale: 'en' | 'fi'
}

const BAD_LINK: LinkAnswer = { ok: false, locale: 'en' }

export type VerificationLinkService = ReturnType<typeof createVerificationLinkService>

/**
 * The verification link's flows (verification.routes.ts): its page, its confirmation, and sending
 * it again. What verifying changes on the sheet is the contact service's (`markSecurityVerified`).
 */
export function createVerificationLinkService({
  db,
  tokens,
  contacts,
}: {
  db: Db
  tokens: Pick<VerificationService, 'peek' | 'consume' | 'sendVerification'>
  contacts: Pick<ContactService, 'markSecurityVerified' | 'pendingSecurityAddress'>
}) {
  return {
    /**
     * What the link's page shows before anything is confirmed: whether the token is live and its
     * address still waits in the security slot, and for whom. Reads only.
     */
    async checkVerificationLink(token: string): Promise<LinkAnswer> {
      const live = await tokens.peek(db, token)
      if (!live) return BAD_LINK
      const account = await findAccount(db, live.accountId)
      if (!account) return BAD_LINK
      const pending = await contacts.pendingSecurityAddress(db, live.accountId)
      const waiting = pending !== undefined && pending.toLowerCase() === live.email.toLowerCase()
      return { ok: waiting, accountName: account.name, email: live.email, locale: account.locale }
    },

    /**
     * Confirms a verification link (the POST from its page): uses up the token and marks the
     * security slot's address verified, if the slot still holds it. Answers what to show.
     */
    verifyEmail(token: string): Promise<LinkAnswer> {
      return transaction(db, async (trx) => {
        const used = await tokens.consume(trx, token)
        if (!used) return BAD_LINK
        const ctx: RequestContext = { actor: { type: 'system', id: 'verification-link' }, requestId: 'verify-email' }
        const { holds, account } = await contacts.markSecurityVerified(trx, ctx, used.accountId, used.email)
        return { ok: holds, accountName: account.name, email: used.email, locale: account.locale }
      })
    },

    /**
     * The link that waits for the pending security address: when it was sent and until when it
     * works (the page shows both, and "send it again" once it has expired).
     */
    async pendingLink(accountId: string): Promise<PendingLink> {
      if (!(await findAccount(db, accountId))) throw notFound(accountId)
      const email = await contacts.pendingSecurityAddress(db, accountId)
      if (email === undefined) throw notPending()
      const link = await repo.findLatestLink(db, accountId, email)
      if (!link) return { email, sentAt: null, expiresAt: null }
      // sent when it was made: its lifetime is fixed, so its start is its end less that
      const sentAt = new Date(link.expires_at.getTime() - VERIFICATION_TTL_MS)
      return { email, sentAt: sentAt.toISOString(), expiresAt: link.expires_at.toISOString() }
    },

    /** Sends the verification link again to a pending outside security address. */
    async resendVerification(ctx: RequestContext, accountId: string): Promise<void> {
      await transaction(db, async (trx) => {
        const account = await lockAccount(trx, accountId)
        if (!account) throw notFound(accountId)
        const email = await contacts.pendingSecurityAddress(trx, accountId)
        if (email === undefined) throw notPending()
        await tokens.sendVerification(trx, ctx, account, email)
      })
    },
  }
}
