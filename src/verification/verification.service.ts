import type { AccountRow } from '../accounts/accounts.table.ts'
import type { Db } from '../db/database.ts'
import type { RequestContext } from '../lib/actor.ts'
import type { Clock } from '../lib/clock.ts'
import type { SecretDeriver } from '../lib/derived-secrets.ts'
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
 * valid seven days, and a new one retires the old ones. What verifying changes on the sheet is
 * the contact service's business; this module only makes and checks tokens.
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
