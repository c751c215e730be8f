import { notFound } from '../../accounts/account-errors.ts'
import { findAccount } from '../../accounts/accounts.repository.ts'
import { appendAuditEvent } from '../../audit/audit.repository.ts'
import type { Db } from '../../db/database.ts'
import { transaction } from '../../db/transaction.ts'
import type { RequestContext, UserRole } from '../../lib/actor.ts'
import type { Clock } from '../../lib/clock.ts'
import { AppError } from '../../lib/errors.ts'
import { hashToken } from '../../lib/hash.ts'
import { newId, newSecret } from '../../lib/ids.ts'
import { findUser } from '../../users/users.repository.ts'
import * as repo from './sessions.repository.ts'
import type { Session } from './sessions.schemas.ts'

const SESSION_PREFIX = 'acs_'
const SESSION_TTL_MS = 8 * 60 * 60 * 1000

/**
 * A session token is `acs_<accountId>.<secret>`: the account id lets the lookup go to the account's
 * own rows (every tenant query filters by account), the secret (192 bits) is stored only hashed.
 */
function parseSessionToken(token: string): { accountId: string } | undefined {
  if (!token.startsWith(SESSION_PREFIX)) return undefined
  const rest = token.slice(SESSION_PREFIX.length)
  const dot = rest.lastIndexOf('.')
  if (dot < 1) return undefined
  const accountId = rest.slice(0, dot)
  return /^[A-Za-z0-9_-]{1,64}$/.test(accountId) ? { accountId } : undefined
}

export type SessionService = ReturnType<typeof createSessionService>

export function createSessionService({ db, clock, publicUrl }: { db: Db; clock: Clock; publicUrl: string }) {
  return {
    /** Mints a session for an active user of the account (platform keys only). */
    async create(ctx: RequestContext, accountId: string, userId: string): Promise<Session> {
      return transaction(db, async (trx) => {
        if (!(await findAccount(trx, accountId))) throw notFound(accountId)
        const user = await findUser(trx, accountId, userId)
        if (!user) throw new AppError('user-not-in-account', { detail: `"${userId}" is not a user of this account.` })
        if (user.status !== 'active') throw new AppError('user-not-active', { detail: `${user.name} is deactivated.` })
        const token = `${SESSION_PREFIX}${accountId}.${newSecret(24)}`
        const now = clock.now()
        const expiresAt = new Date(now.getTime() + SESSION_TTL_MS)
        const id = newId('ses')
        await repo.deleteExpiredSessions(trx, accountId, now)
        await repo.insertSession(trx, {
          account_id: accountId,
          id,
          user_id: userId,
          token_hash: hashToken(token),
          expires_at: expiresAt,
        })
        await appendAuditEvent(trx, ctx, {
          accountId,
          action: 'session.created',
          before: null,
          after: { sessionId: id, userId, expiresAt: expiresAt.toISOString() },
        })
        // The token travels in the fragment: browsers do not send it to servers or write it to logs.
        return {
          token,
          url: `${publicUrl}/ui/sign-in#token=${encodeURIComponent(token)}`,
          expiresAt: expiresAt.toISOString(),
        }
      })
    },

    /** Ends a session (signing out of the page): the token stops working at once. */
    async revoke(token: string): Promise<void> {
      const parsed = parseSessionToken(token)
      if (parsed) await repo.deleteSessionByHash(db, parsed.accountId, hashToken(token))
    },

    async authenticate(
      token: string,
    ): Promise<{ accountId: string; sessionId: string; userId: string; role: UserRole; expiresAt: Date } | undefined> {
      const parsed = parseSessionToken(token)
      if (!parsed) return undefined
      const row = await repo.findLiveSession(db, parsed.accountId, hashToken(token), clock.now())
      return row
        ? {
            accountId: parsed.accountId,
            sessionId: row.id,
            userId: row.user_id,
            role: row.role,
            expiresAt: row.expires_at,
          }
        : undefined
    },
  }
}
