import type { Db } from '../db/database.ts'
import type { RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import type { LimitKey, LimitScope } from './verification-limits.repository.ts'
import * as repo from './verification-limits.repository.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * How many verification mails may go out, each rule over a sliding window (docs/PRODUCT.md,
 * "Outside security addresses"). A verification mail reaches an address nobody has vouched for
 * yet, so these bound what an account's admins can make the service send to strangers. Every
 * count is per account: a limit shared between accounts would tell one tenant what another did.
 */
export const VERIFICATION_MAIL_LIMITS: readonly { scope: LimitScope; max: number; windowMs: number; what: string }[] = [
  { scope: 'address', max: 1, windowMs: 10 * MINUTE, what: 'to one address in 10 minutes' },
  { scope: 'address', max: 3, windowMs: DAY, what: 'to one address in 24 hours' },
  { scope: 'caller', max: 10, windowMs: HOUR, what: 'from one user or API key in an hour' },
  { scope: 'account', max: 20, windowMs: DAY, what: 'from one account in 24 hours' },
]

/** Locking order: the same for every sender, so that two never wait for each other in a circle. */
const SCOPES: readonly LimitScope[] = ['address', 'caller', 'account']
const LONGEST_MS = Math.max(...VERIFICATION_MAIL_LIMITS.map((r) => r.windowMs))
const longestOf = (scope: LimitScope) =>
  Math.max(...VERIFICATION_MAIL_LIMITS.filter((r) => r.scope === scope).map((r) => r.windowMs))

/** When a key's next mail may go, given its recent send times (oldest first); undefined: now. */
function nextAllowed(scope: LimitScope, sent: readonly Date[], now: Date): { at: Date; what: string } | undefined {
  let worst: { at: Date; what: string } | undefined
  for (const rule of VERIFICATION_MAIL_LIMITS.filter((r) => r.scope === scope)) {
    const inWindow = sent.filter((t) => t.getTime() > now.getTime() - rule.windowMs)
    if (inWindow.length < rule.max) continue
    // the window frees a place when the oldest of its last `max` sends leaves it
    const at = new Date(inWindow[inWindow.length - rule.max]!.getTime() + rule.windowMs)
    if (!worst || at > worst.at) worst = { at, what: rule.what }
  }
  return worst
}

/**
 * Counts one verification mail to `email` in the caller's transaction (the one that queues it),
 * or throws `verification-mail-limit` (429, Retry-After) having counted nothing (a new key's row
 * may have been made, empty, which limits nothing; the transaction usually rolls back). Each key's row
 * stays locked until that transaction ends, so concurrent senders, in any process, are counted
 * one after the other.
 */
export async function countVerificationMail(
  trx: Db,
  ctx: RequestContext,
  accountId: string,
  email: string,
  now: Date,
): Promise<void> {
  const keyOf: Record<LimitScope, string> = {
    address: email.toLowerCase(),
    caller: `${ctx.actor.type}:${ctx.actor.id}`,
    account: '',
  }
  const rows: { k: LimitKey; sent: Date[] }[] = []
  for (const scope of SCOPES) {
    const k = { accountId, scope, key: keyOf[scope] }
    let sent = await repo.lockLimitRow(trx, k)
    if (!sent) {
      // a key's first mail: make its row (empty) and lock it, whoever made it first
      await repo.insertEmptyLimitRow(trx, k, now)
      sent = (await repo.lockLimitRow(trx, k)) ?? []
    }
    rows.push({ k, sent })
  }
  const refusals = rows.flatMap((r) => nextAllowed(r.k.scope, r.sent, now) ?? [])
  if (refusals.length > 0) {
    const latest = refusals.reduce((a, b) => (b.at > a.at ? b : a))
    const seconds = Math.max(1, Math.ceil((latest.at.getTime() - now.getTime()) / 1000))
    const limit = VERIFICATION_MAIL_LIMITS.find((r) => r.what === latest.what)!
    throw new AppError('verification-mail-limit', {
      detail: `At most ${limit.max} verification ${limit.max === 1 ? 'mail goes' : 'mails go'} ${latest.what}. Try again after ${latest.at.toISOString()}.`,
      headers: { 'retry-after': String(seconds) },
    })
  }
  for (const r of rows) {
    const kept = r.sent.filter((t) => t.getTime() > now.getTime() - longestOf(r.k.scope))
    await repo.updateLimitRow(trx, r.k, [...kept, now])
  }
  await repo.pruneLimitRows(trx, accountId, new Date(now.getTime() - LONGEST_MS))
}
