import type { Db } from '../db/database.ts'
import { IDEMPOTENCY_KEY_HOURS } from '../idempotency/idempotency.ts'
import type { Clock } from '../lib/clock.ts'
import * as repo from './retention.repository.ts'

/** Rows one batch deletes at most (parents; a notification's deliveries go with it). */
export const RETENTION_BATCH_ROWS = 1000
/** Batches a turn runs at most for each kind of row: a turn is bounded, whatever the backlog. */
export const RETENTION_BATCHES_PER_TURN = 5
/** Between turns when the last one found everything pruned. */
const IDLE_MS = 5 * 60_000
/** Between turns while a backlog is left (the first start after an upgrade, a month-end peak). */
const BACKLOG_MS = 5_000
/** PGlite: at most one VACUUM of the pruned tables this often (it holds the one connection). */
const VACUUM_EVERY_MS = 60 * 60_000

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

export interface RetentionDeps {
  db: Db
  /**
   * Ages are measured on the injected clock (services.clock), as the review reminders do: one time
   * source for the worker's chores, and tests move it instead of waiting. The database's now()
   * would do as well: a few seconds of skew between hosts is nothing against days.
   */
  clock: Clock
  /** Notifications, events and their deliveries older than this go (RETENTION_DAYS). */
  retentionDays: number
  /** Audit events older than this go; undefined keeps them forever (AUDIT_RETENTION_DAYS). */
  auditRetentionDays: number | undefined
  /** The soft-bounce counting window (SOFT_BOUNCE_DAYS): an address's lock row goes once its last soft bounce is older. */
  softBounceDays: number
  /** Vacuum the pruned tables after a backlog is done: PGlite, where no autovacuum runs. */
  vacuum?: boolean
}

export interface PruneTurn {
  notifications: number
  events: number
  idempotencyKeys: number
  auditEvents: number
  mailEvents: number
  correctionRequests: number
  softBounceAddresses: number
  /** A kind used all its batches with the last one full: more is left for the next turn. */
  more: boolean
  /** Where each kind stopped: a next turn of the same backlog may carry on from there. */
  cursor: PruneCursor
}

const KINDS = [
  'notifications',
  'events',
  'idempotencyKeys',
  'auditEvents',
  'mailEvents',
  'correctionRequests',
  'softBounceAddresses',
] as const
type Kind = (typeof KINDS)[number]

/** Per kind, the created_at of the newest row deleted so far: the next batch starts there. */
export type PruneCursor = Partial<Record<Kind, Date>>

const OLDEST = new Date(0)

/**
 * One turn of the retention chore: for each kind of history, batches of at most `batchRows` rows,
 * each its own short statement, until a batch comes back short or `batchesPerTurn` ran. What is
 * still in flight (a notification or event with a delivery not yet delivered or failed) stays.
 */
export async function pruneTurn(
  deps: RetentionDeps,
  opts: { batchRows?: number; batchesPerTurn?: number; from?: PruneCursor } = {},
): Promise<PruneTurn> {
  const limit = opts.batchRows ?? RETENTION_BATCH_ROWS
  const batches = opts.batchesPerTurn ?? RETENTION_BATCHES_PER_TURN
  const now = deps.clock.now().getTime()
  const ago = (ms: number) => new Date(now - ms)
  const kinds: [Kind, typeof repo.pruneNotifications, Date][] = [
    ['notifications', repo.pruneNotifications, ago(deps.retentionDays * DAY_MS)],
    ['events', repo.pruneEvents, ago(deps.retentionDays * DAY_MS)],
    ['idempotencyKeys', repo.pruneIdempotencyKeys, ago(IDEMPOTENCY_KEY_HOURS * HOUR_MS)],
    // the reports of bounces and deliveries: a replay older than this is no longer recognised,
    // which no email service does (they retry for hours, not for a year)
    ['mailEvents', repo.pruneMailEvents, ago(deps.retentionDays * DAY_MS)],
    // dismissed: dealt with, history like the notification it was about (an open one stays)
    ['correctionRequests', repo.pruneCorrectionRequests, ago(deps.retentionDays * DAY_MS)],
    ['softBounceAddresses', repo.pruneSoftBounceAddresses, ago(deps.softBounceDays * DAY_MS)],
  ]
  if (deps.auditRetentionDays !== undefined)
    kinds.push(['auditEvents', repo.pruneAuditEvents, ago(deps.auditRetentionDays * DAY_MS)])

  const turn = {
    ...(Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>),
    more: false,
    cursor: {},
  } satisfies PruneTurn as PruneTurn
  for (const [kind, prune, before] of kinds) {
    let from = opts.from?.[kind] ?? OLDEST
    for (let i = 0; i < batches; i++) {
      const b = await prune(deps.db, { before, from, limit })
      turn[kind] += b.deleted
      if (b.last) from = b.last
      if (b.deleted < limit) break
      if (i === batches - 1) turn.more = true
    }
    turn.cursor[kind] = from
  }
  return turn
}

/**
 * Turns that carry on where the previous one stopped while a backlog lasts, rather than walking
 * the index again over the entries of the rows already deleted (they stay until vacuum, which on
 * PGlite comes only once the backlog is done). Once caught up, the next turn starts from the
 * oldest row again, so what was skipped meanwhile (in flight then, or locked by another worker)
 * is looked at again.
 */
export function createPruner(
  deps: RetentionDeps,
  opts: { batchRows?: number; batchesPerTurn?: number } = {},
): () => Promise<PruneTurn> {
  let cursor: PruneCursor = {}
  return async () => {
    const turn = await pruneTurn(deps, { ...opts, from: cursor })
    cursor = turn.more ? turn.cursor : {}
    return turn
  }
}

/**
 * The worker's retention chore: a turn every 5 minutes, or every few seconds while a backlog is
 * left, so that a first run after an upgrade catches up in hours without one turn holding up the
 * lane it runs in. (The schedule is on the process's own time, like the worker's other chores.)
 */
export function retentionChore(deps: RetentionDeps, log: { info(o: object, m?: string): void }): () => Promise<void> {
  const prune = createPruner(deps)
  let dueAt = 0
  let unvacuumed = false
  let vacuumedAt = 0
  return async () => {
    if (Date.now() < dueAt) return
    // set first: a turn that throws is tried again after the idle pause, not at once
    dueAt = Date.now() + IDLE_MS
    const t0 = performance.now()
    const turn = await prune()
    if (turn.more) dueAt = Date.now() + BACKLOG_MS
    if (KINDS.some((k) => turn[k] > 0)) {
      unvacuumed = true
      const { cursor: _, ...pruned } = turn
      log.info({ pruned, ms: Math.round(performance.now() - t0) }, 'retention: pruned old history')
    }
    // once a backlog is done, not after each of its turns: a vacuum reads the tables' indexes whole
    if (deps.vacuum && unvacuumed && !turn.more && Date.now() - vacuumedAt >= VACUUM_EVERY_MS) {
      const v0 = performance.now()
      await repo.vacuumHistory(deps.db)
      unvacuumed = false
      vacuumedAt = Date.now()
      log.info({ ms: Math.round(performance.now() - v0) }, 'retention: vacuumed the pruned tables')
    }
  }
}
