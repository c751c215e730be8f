/**
 * Benchmarks 9 (PostgreSQL) and 10 (PGlite): pruning history. N notifications with their
 * deliveries, events, idempotency keys and audit events (bench/lib/history.ts), 90 % older than
 * the retention. Ours: the retention chore's turns (`createPruner`, batches of 1,000) back to back
 * until nothing is left. Baseline: the same deletes in the same batch size as bare SQL statements
 * in a loop, no locking clause, no chore. Each side works on a fresh copy of one generated
 * dataset, with the same clock (the dataset's t0), and both must leave the same rows.
 *
 * On PostgreSQL a third copy measures what pruning costs the workers: a real `account-contacts
 * worker` sends young mail into a local SMTP server, once with nothing to prune, once with its own
 * chore pruning the backlog, and once while another connection prunes back to back (the worst
 * case: a chore in backlog pauses 5 s between turns), against its rate before and after. The longest batch is the longest any row lock of the chore is held; on PGlite,
 * which runs one statement at a time, it is also the longest any request waits for pruning.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { CompiledQuery, type Kysely, type KyselyPlugin, sql } from 'kysely'
import pg from 'pg'

import { connectPglite, connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts'
import type { Database } from '../../src/db/database.ts'
import { IDEMPOTENCY_KEY_HOURS } from '../../src/idempotency/idempotency.ts'
import { vacuumHistory } from '../../src/retention/retention.repository.ts'
import { createPruner, RETENTION_BATCH_ROWS, RETENTION_BATCHES_PER_TURN } from '../../src/retention/retention.ts'
import { cliNodeArgs } from '../../test/helpers/cli-command.ts'
import { type BenchContext, type BenchRow, round } from '../lib/context.ts'
import { relatedDataset } from '../lib/dataset.ts'
import { generateHistory, historyCounts, historySize, historyT0 } from '../lib/history.ts'
import { BENCH_SECRET_KEY, startNode } from '../lib/processes.ts'
import { startSmtpCounter } from '../peers/smtp-counter.ts'

const RETENTION_DAYS = 400
const DAY_MS = 86_400_000

/** The baseline's statements: the chore's deletes, bare. $1 before, $2 from, $3 batch size. */
const BARE = {
  notifications: `
    with gone as (
      delete from notifications where (account_id, id) in (
        select account_id, id from notifications n
        where created_at < $1 and created_at >= $2 and not exists (select 1 from deliveries d
          where d.account_id = n.account_id and d.notification_id = n.id and d.status in ('queued', 'sending', 'retrying'))
        order by created_at limit $3)
      returning created_at)
    select count(*)::int as n, max(created_at) as last from gone`,
  events: `
    with gone as (
      delete from events where (account_id, id) in (
        select account_id, id from events e
        where created_at < $1 and created_at >= $2 and not exists (select 1 from deliveries d
          where d.account_id = e.account_id and d.event_id = e.id and d.status in ('queued', 'sending', 'retrying'))
        order by created_at limit $3)
      returning created_at)
    select count(*)::int as n, max(created_at) as last from gone`,
  idempotency_keys: `
    with gone as (
      delete from idempotency_keys where (account_id, actor_id, key) in (
        select account_id, actor_id, key from idempotency_keys where created_at < $1 and created_at >= $2 order by created_at limit $3)
      returning created_at)
    select count(*)::int as n, max(created_at) as last from gone`,
  audit_events: `
    with gone as (
      delete from audit_events where (account_id, id) in (
        select account_id, id from audit_events where at < $1 and at >= $2 order by at limit $3)
      returning at)
    select count(*)::int as n, max(at) as last from gone`,
}

type Exec = (text: string, params: unknown[]) => Promise<{ n: number; last: Date | string | null }>

interface Side {
  seconds: number
  /** Every row deleted, deliveries included. */
  rows: number
  notifications: number
  batches: number
  longestBatchMs: number
  medianBatchMs: number
  left: Record<string, number>
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0)

async function baseline(db: Kysely<Database>, exec: Exec, t0: Date): Promise<Side> {
  const before = await historyCounts(db)
  const retention = new Date(t0.getTime() - RETENTION_DAYS * DAY_MS)
  const cutoffs: [keyof typeof BARE, Date][] = [
    ['notifications', retention],
    ['events', retention],
    ['idempotency_keys', new Date(t0.getTime() - IDEMPOTENCY_KEY_HOURS * 3_600_000)],
    ['audit_events', retention],
  ]
  const times: number[] = []
  const started = performance.now()
  for (const [table, cutoff] of cutoffs) {
    let from: Date = new Date(0)
    for (;;) {
      const t = performance.now()
      const r = await exec(BARE[table], [cutoff, from, RETENTION_BATCH_ROWS])
      times.push(performance.now() - t)
      if (r.n < RETENTION_BATCH_ROWS || !r.last) break
      from = new Date(r.last)
    }
  }
  const seconds = (performance.now() - started) / 1000
  const left = await historyCounts(db)
  return side(seconds, before, left, times)
}

/** Times each statement that goes through the Kysely instance: a batch is one statement. */
function statementTimer() {
  const started = new Map<unknown, number>()
  const times: number[] = []
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      started.set(args.queryId, performance.now())
      return args.node
    },
    async transformResult(args) {
      const t = started.get(args.queryId)
      if (t !== undefined) times.push(performance.now() - t)
      started.delete(args.queryId)
      return args.result
    },
  }
  return { plugin, times }
}

async function ours(
  db: Kysely<Database>,
  t0: Date,
  opts: { until?: () => boolean } = {},
): Promise<Side & { turns: number; longestTurnMs: number }> {
  const before = await historyCounts(db)
  const timer = statementTimer()
  const deps = {
    db: db.withPlugin(timer.plugin),
    clock: { now: () => t0 },
    retentionDays: RETENTION_DAYS,
    auditRetentionDays: RETENTION_DAYS,
    // the bench's history has no soft bounces
    softBounceDays: 7,
  }
  const prune = createPruner(deps)
  const turnTimes: number[] = []
  const started = performance.now()
  for (;;) {
    const t = performance.now()
    const turn = await prune()
    turnTimes.push(performance.now() - t)
    if (!turn.more || opts.until?.()) break
  }
  const seconds = (performance.now() - started) / 1000
  const left = await historyCounts(db)
  return {
    ...side(seconds, before, left, timer.times),
    turns: turnTimes.length,
    longestTurnMs: round(Math.max(...turnTimes), 1),
  }
}

/**
 * Each side on its own fresh copy, in alternating rounds (ours first in the first), the fastest
 * round of each kept: two rounds below 500,000 notifications, one above (minutes a side).
 */
async function alternate<O extends Side>(
  ctx: BenchContext,
  n: number,
  runBaseline: () => Promise<Side>,
  runOurs: () => Promise<O>,
): Promise<{ o: O; b: Side }> {
  const rounds = n >= 500_000 ? 1 : 2
  const os: O[] = []
  const bs: Side[] = []
  const report = (which: string, x: Side) =>
    ctx.say(
      `   ${which}: ${x.rows.toLocaleString('en')} rows in ${x.seconds.toFixed(1)} s, ${x.batches} batches, longest ${x.longestBatchMs} ms`,
    )
  for (let r = 0; r < rounds; r++) {
    for (const which of r % 2 === 0 ? ['ours', 'baseline'] : ['baseline', 'ours']) {
      if (which === 'ours') {
        os.push(await runOurs())
        report(which, os.at(-1)!)
      } else {
        bs.push(await runBaseline())
        report(which, bs.at(-1)!)
      }
    }
  }
  const best = <T extends Side>(xs: T[]) => xs.reduce((a, x) => (x.seconds < a.seconds ? x : a))
  return { o: best(os), b: best(bs) }
}

function side(seconds: number, before: Record<string, number>, left: Record<string, number>, times: number[]): Side {
  return {
    seconds,
    rows: total(before) - total(left),
    notifications: before.notifications! - left.notifications!,
    batches: times.length,
    longestBatchMs: round(Math.max(...times), 1),
    medianBatchMs: round(median(times), 1),
    left,
  }
}

function pruneRows(
  id: number,
  engine: string,
  n: number,
  o: Side,
  b: Side,
  extra: Record<string, unknown> = {},
): BenchRow {
  const same = JSON.stringify(o.left) === JSON.stringify(b.left)
  const ratio = o.rows / o.seconds / (b.rows / b.seconds)
  return {
    id,
    name: `retention on ${engine}: prune ${n.toLocaleString('en')} notifications' history, batches of ${RETENTION_BATCH_ROWS.toLocaleString('en')}`,
    unit: 'rows/s',
    ours: round(o.rows / o.seconds, 0),
    baseline: round(b.rows / b.seconds, 0),
    ratio: round(ratio),
    target: '≥ 0.8',
    holds: same && ratio >= 0.8,
    details: {
      rowsDeleted: o.rows,
      notificationsDeleted: o.notifications,
      notificationsPerSecond: round(o.notifications / o.seconds, 0),
      baselineNotificationsPerSecond: round(b.notifications / b.seconds, 0),
      seconds: round(o.seconds, 1),
      baselineSeconds: round(b.seconds, 1),
      batches: o.batches,
      longestBatchMs: o.longestBatchMs,
      medianBatchMs: o.medianBatchMs,
      baselineLongestBatchMs: b.longestBatchMs,
      sameRowsLeft: same,
      left: JSON.stringify(o.left),
      ...extra,
      ...(same ? {} : { failedRequests: `baseline left ${JSON.stringify(b.left)}` }),
    },
  }
}

// ---- PostgreSQL -------------------------------------------------------------------------------

async function admin<T>(adminUrl: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  try {
    return await f(c)
  } finally {
    await c.end()
  }
}

const dbUrl = (adminUrl: string, name: string) => {
  const u = new URL(adminUrl)
  u.pathname = `/${name}`
  return u.toString()
}

/** The kept source database of this size, generated when missing; answers its name and t0. */
async function postgresHistory(ctx: BenchContext, n: number): Promise<{ name: string; t0: Date }> {
  const name = relatedDataset(ctx.opts, `ac_bench_history_${n}`, `history_${n}`)
  await admin(ctx.opts.adminUrl, async (c) => {
    if ((await c.query('select 1 from pg_database where datname = $1', [name])).rowCount === 0)
      await c.query(`create database ${name}`)
  })
  const handle = connectPostgres(dbUrl(ctx.opts.adminUrl, name), { max: 1, statementTimeoutMs: 0 })
  try {
    let t0 = await historyT0(handle.db, n)
    if (!t0) {
      ctx.say(
        `   generating the history of ${n.toLocaleString('en')} notifications in PostgreSQL database ${name} (kept for later runs) …`,
      )
      await sql`drop schema public cascade`.execute(handle.db)
      await sql`create schema public`.execute(handle.db)
      t0 = await generateHistory(handle.db, n, ctx.say)
    }
    return { name, t0 }
  } finally {
    await handle.close()
  }
}

/** A fresh copy of the source database (a file copy: seconds, and the same pages for each side). */
async function postgresCopy(ctx: BenchContext, source: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${source}_run`
  await admin(ctx.opts.adminUrl, async (c) => {
    await c.query(`drop database if exists ${name}`)
    await c.query(`create database ${name} template ${source} strategy file_copy`)
  })
  return {
    url: dbUrl(ctx.opts.adminUrl, name),
    drop: () => admin(ctx.opts.adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`).then(() => {})),
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `mails` young notifications with one queued delivery each: the mail the measured workers send. */
async function queueYoungMail(db: Kysely<Database>, accounts: number, mails: number): Promise<void> {
  await sql`
    insert into notifications (account_id, id, category, subject, text, status, recipients, actor_type, actor_id)
    select 'h' || lpad((1 + i % ${accounts}::int)::text, 7, '0'), 'live_' || i, 'account_update', 'Important account notice',
      'Your account has news for you.', 'queued', '[]'::jsonb, 'api_key', 'benchmark'
    from generate_series(1, ${mails}::int) i`.execute(db)
  await sql`
    insert into deliveries (account_id, id, channel, notification_id, recipient, max_attempts)
    select account_id, id || '.1', 'email', id, 'live' || substr(id, 6) || '@company.example', 8
    from notifications where id like 'live\\_%'`.execute(db)
}

/**
 * A worker's mail rate under pruning, three ways, on one copy holding the history and young mail
 * queued for it: (a) a worker whose own chore finds nothing to prune; (b) a worker whose chore
 * prunes the backlog as in production (a turn every 5 s, in the lane it shares with sending);
 * (c) a worker like (a) before, while and after another connection prunes back to back (the
 * worst case: many workers in backlog at once). Each worker is warmed up before its window.
 */
async function deliveryWhilePruning(ctx: BenchContext, url: string, t0: Date) {
  const windowMs = ctx.opts.quick ? 3000 : 12_000
  const warmup = ctx.opts.quick ? 300 : 3000
  const mails = ctx.opts.quick ? 8000 : 80_000
  const handle = connectPostgres(url, { statementTimeoutMs: 0 })
  const sink = await startSmtpCounter()
  const window = async () => {
    const c0 = sink.received()
    await sleep(windowMs)
    return (sink.received() - c0) / (windowMs / 1000)
  }
  const withWorker = async <T>(label: string, retentionDays: string, f: () => Promise<T>): Promise<T> => {
    const worker = startNode(
      cliNodeArgs(['worker']),
      {
        DATABASE_URL: url,
        SMTP_URL: sink.url,
        MAIL_FROM: 'bench@bench.invalid',
        LOG_LEVEL: 'warn',
        SECRET_KEY: BENCH_SECRET_KEY,
        RETENTION_DAYS: retentionDays,
        AUDIT_RETENTION_DAYS: retentionDays,
      },
      { profile: true },
    )
    ctx.watch(worker, `worker (${label}), benchmark 9`)
    try {
      await sink.waitFor(sink.received() + warmup, 120_000)
      return await f()
    } finally {
      await worker.stop()
    }
  }
  try {
    await queueYoungMail(handle.db, historySize(ctx.opts.notifications).accounts, mails)
    // its own chore then finds nothing that old
    const NEVER = '99999'
    const alone = await withWorker('nothing to prune', NEVER, window)
    const history = async () => (await historyCounts(handle.db)).notifications!
    const beforeChore = await history()
    const ownChore = await withWorker('its chore pruning', String(RETENTION_DAYS), window)
    const ownChorePruned = beforeChore - (await history())
    const other = await withWorker('another pruning', NEVER, async () => {
      const before = await window()
      let stop = false
      const pruner = ours(handle.db, t0, { until: () => stop })
      const during = await window()
      stop = true
      const pruned = await pruner
      const after = await window()
      return { before, during, after, pruned }
    })
    return { alone, ownChore, ownChorePruned, ...other, ranDry: sink.received() >= mails }
  } finally {
    await sink.close()
    await handle.close()
  }
}

export async function retentionBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  const n = ctx.opts.notifications
  ctx.say(`9. retention on PostgreSQL: prune the history of ${n.toLocaleString('en')} notifications …`)
  const { name, t0 } = await postgresHistory(ctx, n)

  const { o, b } = await alternate(
    ctx,
    n,
    async () => {
      const copy = await postgresCopy(ctx, name)
      const client = new pg.Client({ connectionString: copy.url })
      await client.connect()
      const counts = connectPostgres(copy.url, { max: 1, statementTimeoutMs: 0 })
      try {
        return await baseline(counts.db, async (text, params) => (await client.query(text, params)).rows[0], t0)
      } finally {
        await client.end()
        await counts.close()
        await copy.drop()
      }
    },
    async () => {
      const copy = await postgresCopy(ctx, name)
      const h = connectPostgres(copy.url)
      try {
        return await ours(h.db, t0)
      } finally {
        await h.close()
        await copy.drop()
      }
    },
  )

  const copy = await postgresCopy(ctx, name)
  let s: Awaited<ReturnType<typeof deliveryWhilePruning>>
  try {
    s = await deliveryWhilePruning(ctx, copy.url, t0)
  } finally {
    await copy.drop()
  }
  const undisturbed = (s.before + s.after) / 2
  ctx.say(`   delivery: ${s.alone.toFixed(0)} mails/s alone, ${s.ownChore.toFixed(0)} with its chore pruning`)
  ctx.say(
    `   delivery: ${s.before.toFixed(0)} mails/s before another prunes, ${s.during.toFixed(0)} while, ${s.after.toFixed(0)} after`,
  )
  const dry = s.ranDry ? { failedRequests: 'the queued mail ran out before the last window ended' } : {}
  return [
    pruneRows(9, 'PostgreSQL', n, o, b, {
      turns: o.turns,
      longestTurnMs: o.longestTurnMs,
      batchesPerTurnAndKind: RETENTION_BATCHES_PER_TURN,
    }),
    {
      id: 9,
      name: "retention on PostgreSQL: a worker's delivery while its own chore prunes the backlog",
      unit: 'mails/s',
      ours: round(s.ownChore, 0),
      baseline: round(s.alone, 0),
      ratio: round(s.ownChore / s.alone),
      target: '≥ 0.8',
      holds: !s.ranDry && s.ownChore / s.alone >= 0.8,
      // the notifications its chore deleted in its warm-up and window (the young mail sent is among them: none is old)
      details: { notificationsPrunedMeanwhile: s.ownChorePruned, ...dry },
    },
    {
      id: 9,
      name: "retention on PostgreSQL: a worker's delivery while another connection prunes back to back",
      unit: 'mails/s',
      ours: round(s.during, 0),
      baseline: round(undisturbed, 0),
      ratio: round(s.during / undisturbed),
      target: '≥ 0.5',
      holds: !s.ranDry && s.during / undisturbed >= 0.5,
      details: {
        before: round(s.before, 0),
        after: round(s.after, 0),
        prunerTurns: s.pruned.turns,
        prunerRowsPerSecond: round(s.pruned.rows / s.pruned.seconds, 0),
        prunerLongestTurnMs: s.pruned.longestTurnMs,
        prunerLongestBatchMs: s.pruned.longestBatchMs,
        ...dry,
      },
    },
  ]
}

// ---- PGlite ---------------------------------------------------------------------------------

async function pgliteHistory(ctx: BenchContext, n: number): Promise<{ dir: string; t0: Date }> {
  const dir = path.join(os.tmpdir(), 'account-contacts-bench', `pglite-history-${n}`)
  let handle: DatabaseHandle | undefined
  try {
    if (fs.existsSync(path.join(dir, 'complete'))) {
      handle = await connectPglite(dir, { purpose: 'benchmark dataset' })
      const t0 = await historyT0(handle.db, n)
      if (t0) return { dir, t0 }
      await handle.close()
      handle = undefined
    }
    fs.rmSync(dir, { recursive: true, force: true })
    ctx.say(
      `   generating the history of ${n.toLocaleString('en')} notifications in PGlite (${dir}, kept for later runs) …`,
    )
    handle = await connectPglite(dir, { purpose: 'benchmark dataset' })
    const t0 = await generateHistory(handle.db, n, ctx.say)
    fs.writeFileSync(path.join(dir, 'complete'), t0.toISOString())
    return { dir, t0 }
  } finally {
    await handle?.close()
  }
}

export async function embeddedRetentionBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  const n = ctx.opts.notifications
  ctx.say(`10. retention on PGlite: prune the history of ${n.toLocaleString('en')} notifications …`)
  const { dir, t0 } = await pgliteHistory(ctx, n)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-bench-run-'))
  const onCopy = async <T>(f: (h: DatabaseHandle) => Promise<T>): Promise<T> => {
    const copy = path.join(work, 'copy')
    fs.rmSync(copy, { recursive: true, force: true })
    fs.cpSync(dir, copy, { recursive: true })
    const h = await connectPglite(copy, { purpose: 'benchmark 10' })
    try {
      return await f(h)
    } finally {
      await h.close()
      fs.rmSync(copy, { recursive: true, force: true })
    }
  }
  try {
    const { o, b } = await alternate(
      ctx,
      n,
      // PGlite in this process: the bare side sends the statement text straight to it
      () =>
        onCopy((h) =>
          baseline(
            h.db,
            async (text, params) =>
              (await h.db.executeQuery<{ n: number; last: Date | null }>(CompiledQuery.raw(text, params))).rows[0]!,
            t0,
          ),
        ),
      () =>
        onCopy(async (h) => {
          const pruned = await ours(h.db, t0)
          // the chore's vacuum once the backlog is done: on PGlite each table's holds the one connection
          const timer = statementTimer()
          await vacuumHistory(h.db.withPlugin(timer.plugin))
          return {
            ...pruned,
            vacuumMs: round(
              timer.times.reduce((a, b) => a + b, 0),
              0,
            ),
            longestVacuumMs: round(Math.max(...timer.times), 0),
          }
        }),
    )
    ctx.say(`   vacuum after pruning: ${o.vacuumMs} ms, the longest table ${o.longestVacuumMs} ms`)
    return [
      pruneRows(10, 'PGlite', n, o, b, {
        turns: o.turns,
        longestTurnMs: o.longestTurnMs,
        batchesPerTurnAndKind: RETENTION_BATCHES_PER_TURN,
        vacuumMs: o.vacuumMs,
        longestVacuumMs: o.longestVacuumMs,
      }),
    ]
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}
