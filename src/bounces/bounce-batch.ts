import { auditEventsInsert } from '../audit/audit.repository.ts'
import type { Db } from '../db/database.ts'
import { executeAsOne } from '../db/one-statement.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import { mailWrites } from '../mail/queue-system-mail.ts'
import { eventWrites } from '../webhooks/events.ts'
import type { LockedNotification } from './bounce-batch.repository.ts'
import * as batch from './bounce-batch.repository.ts'
import { announcements, type Bounce, BOUNCE_CTX, type BounceDeps } from './bounce-consequences.ts'
import { lockAddresses } from './bounces.repository.ts'
import type { MailEventOutcome } from './bounces.service.ts'
import { notificationKey, queueFallbacksOf } from './fallbacks.ts'
import type { MailEvent } from './mail-event.ts'
import type { SuppressionKind } from './suppressions.table.ts'

/** A bounce or complaint whose reference verified: the token it names. */
export interface VerifiedReport {
  event: MailEvent & { kind: SuppressionKind }
  token: string
}

export interface BatchDeps extends BounceDeps {
  softBounces: { limit: number; days: number }
}

/** Thrown when the batch found the database other than it planned for: the caller takes the reports one by one. */
class BatchConflict extends Error {}

const eventKey = (e: MailEvent) => `${e.source}/${e.eventId.slice(0, 500)}`
const addressKey = (d: DeliveryRow) => `${d.account_id} ${d.recipient.toLowerCase()}`

/**
 * A request's bounces and complaints in the caller's transaction, with set-based statements,
 * ending as taking them one by one in order would
 * (bounces.service.ts `take`): a report of a delivery that bounced, before or earlier in the
 * request, is a duplicate and is not kept; an event kept before, or twice in the request, is a
 * replay; soft bounces are counted with those of the request before them. Answers each outcome.
 *
 * Five statements for any number (seven with soft bounces; the routing is one per category): lock
 * the deliveries; keep the reports and lock the bounced ones' notifications; mark bounced, suppress
 * and read the accounts' contexts; route and queue the fallbacks; write the fix mails, the events
 * and the audit. One bounce alone takes about nine.
 *
 * Locks, in this order: the deliveries, the addresses of soft bounces (lockAddresses), the
 * notifications of the bounced deliveries, each set in key order, so that two requests (or a
 * request and a bounce taken alone, which locks in the same order) cannot wait on each other in a
 * circle; and a deadlock or a serialization failure is tried again whole (db/transaction.ts).
 */
export async function takeBounces(trx: Db, deps: BatchDeps, reports: VerifiedReport[]): Promise<MailEventOutcome[]> {
  const locked = await batch.lockDeliveriesByTokens(trx, [...new Set(reports.map((r) => r.token))])
  const byToken = new Map(locked.map((d) => [d.return_token!, d]))
  const soft = reports.flatMap((r) => {
    const d = byToken.get(r.token)
    return r.event.kind === 'soft_bounce' && d && d.status !== 'bounced'
      ? [{ accountId: d.account_id, email: d.recipient }]
      : []
  })
  // the counting window's start, as countSoftBounces measures it (no soft bounces: nothing is counted)
  let counted = { counts: new Map<string, number>(), since: Infinity }
  if (soft.length > 0) {
    await lockAddresses(trx, soft)
    // after the locks, in a statement of its own: it sees what the lock's last holder committed
    const c = await batch.countSoftBouncesOf(trx, soft, deps.softBounces.days)
    counted = { counts: c.counts, since: c.now.getTime() - deps.softBounces.days * 86_400_000 }
  }
  // the plan assumes no replays it does not know of; each one found means planning again, which
  // only ever adds reports to keep (a replay never counts nor bounces), so what was kept stays so
  const replays = new Set<string>()
  const kept = new Set<string>()
  const notifications = new Map<string, LockedNotification>()
  for (;;) {
    const p = plan(reports, byToken, replays, counted, deps.softBounces.limit)
    if (![...kept].every((k) => p.keep.some((r) => eventKey(r.event) === k)))
      throw new BatchConflict('a report kept would no longer be')
    const todo = p.keep.filter((r) => !kept.has(eventKey(r.event)))
    // a notification first needed after a replay is locked later than the others, out of their
    // order: a deadlock that rare is tried again (db/transaction.ts)
    const lock = [
      ...new Map(
        p.bounces
          .filter((b) => b.delivery.notification_id && !notifications.has(notificationKey(b.delivery)))
          .map((b) => [
            notificationKey(b.delivery),
            { account_id: b.delivery.account_id, notification_id: b.delivery.notification_id! },
          ]),
      ).values(),
    ]
    if (todo.length > 0 || lock.length > 0) {
      const r = await batch.keepReports(trx, todo, lock)
      for (const n of r.notifications) notifications.set(`${n.account_id}/${n.id}`, n)
      for (const t of todo) (r.kept.has(eventKey(t.event)) ? kept : replays).add(eventKey(t.event))
      if (!todo.every((t) => r.kept.has(eventKey(t.event)))) continue
    }
    if (p.bounces.length > 0) await applyBounces(trx, deps, p.bounces, notifications)
    return p.outcomes
  }
}

/** What taking the reports one by one, in order, would answer, keep and bounce. */
function plan(
  reports: VerifiedReport[],
  byToken: Map<string, DeliveryRow>,
  replays: Set<string>,
  counted: { counts: Map<string, number>; since: number },
  limit: number,
) {
  const { since } = counted
  const counts = new Map(counted.counts)
  const bounced = new Set<DeliveryRow>()
  const seen = new Set<string>()
  const out = {
    outcomes: [] as MailEventOutcome[],
    keep: [] as { event: MailEvent; d: DeliveryRow }[],
    bounces: [] as Bounce[],
  }
  for (const { event: e, token } of reports) {
    const d = byToken.get(token)
    const k = eventKey(e)
    const outcome = ((): MailEventOutcome => {
      if (!d) return 'unmatched'
      if (d.status === 'bounced' || bounced.has(d)) return 'duplicate'
      if (replays.has(k) || seen.has(k)) return 'replay'
      seen.add(k)
      out.keep.push({ event: e, d })
      // as countSoftBounces counts: every soft bounce kept for the address within the window
      if (e.kind === 'soft_bounce' && e.at.getTime() > since)
        counts.set(addressKey(d), (counts.get(addressKey(d)) ?? 0) + 1)
      // a forward: the target bounced, not our contact (see `take`)
      if (e.recipient && e.recipient.toLowerCase() !== d.recipient.toLowerCase()) return 'recorded'
      if (e.kind === 'soft_bounce' && (counts.get(addressKey(d)) ?? 0) < limit) return 'recorded'
      bounced.add(d)
      out.bounces.push({ delivery: d, kind: e.kind, reason: e.diagnostic, source: e.source })
      return 'bounced'
    })()
    out.outcomes.push(outcome)
  }
  return out
}

/**
 * applyBounce (bounce-consequences.ts) for a set of bounces of distinct deliveries, each step one
 * statement for the set (the routing one per category): the fallbacks are routed after all their
 * suppressions (queueFallbacksOf).
 */
async function applyBounces(
  trx: Db,
  deps: BatchDeps,
  bounces: Bounce[],
  noteOf: Map<string, LockedNotification>,
): Promise<void> {
  const contexts = await batch.suppressReadingContexts(trx, bounces)
  const queued = await queueFallbacksOf(
    trx,
    deps.policy,
    bounces.map((b) => b.delivery),
    noteOf,
  )
  // the (holder, address) pairs this request suppresses: their admins are not written to, and
  // each holder is told once, by the first of its bounces, as one by one
  const suppressedNow = new Set(
    bounces.map(
      (b) => `${contexts.get(addressKey(b.delivery))!.holderAccountId} ${b.delivery.recipient.toLowerCase()}`,
    ),
  )
  const told = new Set<string>()
  const all = bounces.map((b) => {
    const n = noteOf.get(notificationKey(b.delivery))
    const read = contexts.get(addressKey(b.delivery))!
    const holderKey = `${read.holderAccountId} ${b.delivery.recipient.toLowerCase()}`
    const c = {
      ...read,
      suppressed: read.suppressed || told.has(holderKey),
      admins: read.admins.filter((a) => !suppressedNow.has(`${read.holderAccountId} ${a.email.toLowerCase()}`)),
      notification: n ? { kind: n.kind, category: n.category } : null,
    }
    told.add(holderKey)
    const f = queued.get(notificationKey(b.delivery))
    const fallback = f?.deliveryId === b.delivery.id ? f.recipients : []
    return announcements(deps, b, c, fallback)
  })
  await executeAsOne(trx, [
    ...mailWrites(
      BOUNCE_CTX,
      all.flatMap((a) => a.fix),
    ),
    ...eventWrites(all.flatMap((a) => a.events)),
    auditEventsInsert(
      BOUNCE_CTX,
      all.flatMap((a) => a.audit),
    ),
  ])
}
