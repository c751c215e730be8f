import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import type { ClaimedDelivery } from '../delivery/deliveries.repository.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import type { SecretDeriver } from '../lib/derived-secrets.ts'
import { takeBounces, type VerifiedReport } from './bounce-batch.ts'
import { applyBounce, type BounceDeps } from './bounce-consequences.ts'
import * as repo from './bounces.repository.ts'
import type { MailEvent } from './mail-event.ts'
import { verifyRef } from './return-path.ts'
import { divertSuppressed } from './suppressed-deliveries.ts'
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

/** Where a batch that had to be taken one by one is told. */
type Log = { warn(o: object, m: string): void }

export type BounceService = ReturnType<typeof createBounceService>

const isBounce = (e: MailEvent): e is MailEvent & { kind: SuppressionKind } => e.kind !== 'delivered'

export function createBounceService(deps: BounceServiceDeps) {
  const { db } = deps

  /**
   * One bounce or complaint, in a transaction of its own (a request's only one, or each of a batch
   * that failed together): the report is kept in the same transaction as what it does, so a crash before the
   * commit leaves it to be taken again when the service retries, never half taken.
   */
  async function take({ event: e, token }: VerifiedReport): Promise<MailEventOutcome> {
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
   * A request's bounces and complaints in one transaction (bounce-batch.ts), its delivery reports
   * kept in it too (one commit, so one flush to disk, a request instead of two): one transaction
   * each cost an email service's batch of a hundred events most of its time. Should that
   * transaction fail, the delivery reports are kept and each bounce taken alone, as settleAll does
   * in delivery/worker.ts, so that one bad report cannot hold back the others; the first error is
   * thrown once all were tried (the service retries the request; what was taken is then a replay).
   */
  async function takeAll(delivered: MailEvent[], reports: VerifiedReport[], log?: Log) {
    try {
      return await transaction(db, async (trx) => ({
        recorded: await record(trx, delivered),
        taken: await takeBounces(trx, deps, reports),
      }))
    } catch (err) {
      log?.warn({ err, reports: reports.length }, 'taking a batch of bounces failed; taking them one by one')
    }
    const recorded = await record(db, delivered)
    const taken: MailEventOutcome[] = []
    let failed: { err: unknown } | undefined
    for (const r of reports) {
      try {
        taken.push(await take(r))
      } catch (err) {
        failed ??= { err }
        taken.push('unmatched')
      }
    }
    if (failed) throw failed.err
    return { recorded, taken }
  }

  /**
   * Delivery reports, which change nothing but the record, all in one statement: an email service
   * posts them by the hundred, and one transaction each would make them most of the work.
   */
  async function record(trx: Db, events: MailEvent[]): Promise<MailEventOutcome[]> {
    if (events.length === 0) return []
    const tokens = events.map((e) => verifyRef(deps.secrets, e.ref))
    const valid = events.flatMap((e, i) => (tokens[i] ? [{ event: e, token: tokens[i] }] : []))
    const taken = await repo.recordMailEvents(trx, valid)
    return events.map((e, i) =>
      !tokens[i] ? 'unmatched' : (taken.get(`${e.source}/${e.eventId.slice(0, 500)}`) ?? 'unmatched'),
    )
  }

  return {
    /**
     * Takes verified reports (their source checked their signature): the delivery reports at once,
     * and with them the bounces and complaints, in one transaction (`takeAll`); answers each outcome, in
     * order, for the caller to log (an unmatched one may be a forgery or an expired reference).
     */
    async ingest(events: MailEvent[], log?: Log): Promise<MailEventOutcome[]> {
      const delivered = events.filter((e) => e.kind === 'delivered')
      const tokens = events.map((e) => (isBounce(e) ? verifyRef(deps.secrets, e.ref) : undefined))
      const bounces = events.flatMap((e, i) => (isBounce(e) && tokens[i] ? [{ event: e, token: tokens[i] }] : []))
      // one bounce alone takes the path a batch falls back to
      const { recorded, taken } =
        bounces.length > 1
          ? await takeAll(delivered, bounces, log)
          : { recorded: await record(db, delivered), taken: bounces.length === 1 ? [await take(bounces[0]!)] : [] }
      const outcomes = events.map((e, i) =>
        !isBounce(e) ? recorded.shift()! : tokens[i] ? taken.shift()! : 'unmatched',
      )
      if (outcomes.includes('bounced')) deps.onQueued?.()
      return outcomes
    },

    /** A mail server refused the recipient for good while we sent (a synchronous 5xx), in the settle's transaction. */
    async refused(trx: Db, d: DeliveryRow, detail: string): Promise<void> {
      // the settle holds the row under its claim token; a delivery is refused once, as it is claimed once
      await applyBounce(trx, deps, { delivery: d, kind: 'hard_bounce', reason: detail, source: 'smtp' })
    },

    /** Claimed mail to addresses suppressed since it was queued, not sent, in the settle's transaction (suppressed-deliveries.ts). */
    diverted(trx: Db, ds: ClaimedDelivery[], token: string): Promise<DeliveryRow[]> {
      return divertSuppressed(trx, deps.policy, ds, token)
    },
  }
}
