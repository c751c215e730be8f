import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import type { SecretDeriver } from '../lib/derived-secrets.ts'
import { applyBounce, type BounceDeps } from './bounce-consequences.ts'
import * as repo from './bounces.repository.ts'
import type { MailEvent } from './mail-event.ts'
import { verifyRef } from './return-path.ts'
import type { SuppressionKind } from './suppressions.table.ts'

/**
 * What became of one report:
 * - bounced: the delivery bounced now, with everything that follows (bounce-consequences.ts);
 * - recorded: kept (a delivery, a soft bounce below the limit), nothing else changed;
 * - replay: this source's event was taken before; duplicate: the delivery had bounced already;
 * - unmatched: no valid reference, or none of our deliveries has it (logged, nothing changed).
 */
export type MailEventOutcome = 'bounced' | 'recorded' | 'replay' | 'duplicate' | 'unmatched'

export interface BounceServiceDeps extends BounceDeps {
  db: Db
  secrets: Pick<SecretDeriver, 'returnPathSignature'>
  /** Soft bounces of one address that suppress it: `limit` within `days` days (SOFT_BOUNCE_LIMIT, SOFT_BOUNCE_DAYS). */
  softBounces: { limit: number; days: number }
  /** New mail was queued (a fallback, a "fix this contact" mail): wake the worker. */
  onQueued?: () => void
}

export type BounceService = ReturnType<typeof createBounceService>

const isBounce = (e: MailEvent): e is MailEvent & { kind: SuppressionKind } => e.kind !== 'delivered'

export function createBounceService(deps: BounceServiceDeps) {
  const { db } = deps

  /**
   * One bounce or complaint, in a transaction of its own, so that a bad one cannot undo the
   * others: the report is kept in the same transaction as what it does, so a crash before the
   * commit leaves it to be taken again when the service retries, never half taken.
   */
  async function take(e: MailEvent & { kind: SuppressionKind }): Promise<MailEventOutcome> {
    const token = verifyRef(deps.secrets, e.ref)
    if (!token) return 'unmatched'
    return transaction(db, async (trx): Promise<MailEventOutcome> => {
      const d = await repo.lockDeliveryByToken(trx, token)
      if (!d) return 'unmatched'
      if (d.status === 'bounced') return 'duplicate'
      // before the report is kept: two soft bounces of the address at once count one after the other
      if (e.kind === 'soft_bounce') await repo.lockAddresses(trx, [{ accountId: d.account_id, email: d.recipient }])
      if (!(await repo.insertMailEvent(trx, d, e))) return 'replay'
      // a report about another address: the mail was forwarded (our envelope sender kept), and
      // the forward's target bounced, not our contact, whose mailbox works
      if (e.recipient && e.recipient.toLowerCase() !== d.recipient.toLowerCase()) return 'recorded'
      if (e.kind === 'soft_bounce') {
        const n = await repo.countSoftBounces(trx, d.account_id, d.recipient, deps.softBounces.days)
        if (n < deps.softBounces.limit) return 'recorded'
      }
      await applyBounce(trx, deps, { delivery: d, kind: e.kind, reason: e.diagnostic, source: e.source })
      return 'bounced'
    })
  }

  /**
   * Delivery reports, which change nothing but the record, all in one statement: an email service
   * posts them by the hundred, and one transaction each would make them most of the work.
   */
  async function record(events: MailEvent[]): Promise<MailEventOutcome[]> {
    const tokens = events.map((e) => verifyRef(deps.secrets, e.ref))
    const valid = events.flatMap((e, i) => (tokens[i] ? [{ event: e, token: tokens[i] }] : []))
    const taken = await repo.recordMailEvents(db, valid)
    return events.map((e, i) =>
      !tokens[i] ? 'unmatched' : (taken.get(`${e.source}/${e.eventId.slice(0, 500)}`) ?? 'unmatched'),
    )
  }

  return {
    /**
     * Takes verified reports (their source checked their signature): the delivery reports at once,
     * each bounce or complaint in a transaction of its own; answers each outcome, in order, for the
     * caller to log (an unmatched one may be a forgery or a stale reference).
     */
    async ingest(events: MailEvent[]): Promise<MailEventOutcome[]> {
      const delivered = events.filter((e) => e.kind === 'delivered')
      const recorded = delivered.length > 0 ? await record(delivered) : []
      const outcomes: MailEventOutcome[] = []
      for (const e of events) outcomes.push(isBounce(e) ? await take(e) : recorded.shift()!)
      if (outcomes.includes('bounced')) deps.onQueued?.()
      return outcomes
    },

    /** A mail server refused the recipient for good while we sent (a synchronous 5xx), in the settle's transaction. */
    async refused(trx: Db, d: DeliveryRow, detail: string): Promise<void> {
      // the settle holds the row under its claim token; a delivery is refused once, as it is claimed once
      await applyBounce(trx, deps, { delivery: d, kind: 'hard_bounce', reason: detail, source: 'smtp' })
    },
  }
}
