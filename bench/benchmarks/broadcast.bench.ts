/**
 * Benchmark 4: a broadcast of `invoice` to every account, fanned out the way the workers do it
 * (BroadcastService.processBatch, 2,000 accounts a transaction, until done), against one bare
 * INSERT … SELECT that writes the same rows (a notification per account, a delivery per
 * recipient) in one statement. Both leave the same row counts; the rows are removed after each.
 */
import { type Kysely, sql } from 'kysely'

import { createBroadcastService } from '../../src/broadcasts/broadcasts.service.ts'
import { connectPostgres } from '../../src/db/connect.ts'
import type { Database } from '../../src/db/database.ts'
import { DEFAULT_POLICY } from '../../src/routing/routing-policy.ts'
import { type BenchContext, type BenchRow, perRound, round } from '../lib/context.ts'

const SUBJECT = 'Your invoice for November'
const TEXT = 'Your invoice is ready in the billing portal.'

async function counts(db: Kysely<Database>) {
  const r = await sql<{ n: number; d: number }>`
    select (select count(*) from notifications)::int as n, (select count(*) from deliveries)::int as d`.execute(db)
  return r.rows[0]!
}

/** Removes what a broadcast wrote. */
export const clear = (db: Kysely<Database>) => sql`truncate notifications, deliveries, broadcasts`.execute(db)

/** A broadcast of `invoice` to every account, fanned out batch by batch as the workers do it, timed. */
export async function ours(db: Kysely<Database>) {
  const broadcasts = createBroadcastService({ db, policy: DEFAULT_POLICY })
  const t0 = performance.now()
  const b = await broadcasts.create(
    { actor: { type: 'api_key', id: 'benchmark' }, requestId: 'bench' },
    { category: 'invoice', subject: SUBJECT, text: TEXT },
  )
  let batches = 0
  while (await broadcasts.processBatch()) batches++
  const seconds = (performance.now() - t0) / 1000
  const done = await broadcasts.get(b.id)
  if (done.status !== 'done' || done.processed !== done.total)
    throw new Error(`broadcast not finished: ${JSON.stringify(done)}`)
  return { seconds, batches, ...(await counts(db)) }
}

/** The same rows in one statement: the minimum the database must do. */
async function baseline(db: Kysely<Database>) {
  const t0 = performance.now()
  await sql`
    with r as (
      select s.account_id, u.email, u.name, u.id as user_id, array_agg(s.slot order by s.slot) as slots
      from contact_slots s join users u on u.account_id = s.account_id and u.id = s.user_id
      where s.slot in ('primary', 'billing')
        -- the same guarantee as ours: a suppressed address gets nothing (bounces/)
        and not exists (select 1 from suppressions x where x.account_id = s.account_id and x.email = lower(u.email))
      group by s.account_id, u.email, u.name, u.id
    ),
    n as (
      insert into notifications (account_id, id, category, subject, text, status, recipients, broadcast_id, actor_type, actor_id)
      select account_id, 'base.' || account_id, 'invoice', ${SUBJECT}, ${TEXT}, 'queued',
        jsonb_agg(jsonb_build_object('email', email, 'name', name, 'userId', user_id, 'slots', to_jsonb(slots))), 'base', 'api_key', 'benchmark'
      from r group by account_id
      returning account_id, id
    )
    insert into deliveries (account_id, id, channel, notification_id, recipient, recipient_name, max_attempts)
    select r.account_id, n.id || '.' || left(md5(lower(r.email)), 16), 'email', n.id, r.email, r.name, 8
    from r join n using (account_id)`.execute(db)
  const seconds = (performance.now() - t0) / 1000
  return { seconds, ...(await counts(db)) }
}

export async function broadcastBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  ctx.say(`4. broadcast to ${ctx.opts.accounts.toLocaleString('en')} accounts …`)
  // no statement bound: the baseline does a million accounts in one statement
  const handle = connectPostgres(ctx.pgUrl, { statementTimeoutMs: 0 })
  try {
    await clear(handle.db)
    // one round each at a million accounts (minutes); alternating rounds below that
    const rounds = ctx.opts.accounts > 100_000 ? 1 : ctx.opts.rounds
    const o: Awaited<ReturnType<typeof ours>>[] = []
    const b: Awaited<ReturnType<typeof baseline>>[] = []
    for (let i = 0; i < rounds; i++) {
      b.push(await baseline(handle.db))
      await clear(handle.db)
      o.push(await ours(handle.db))
      await clear(handle.db)
      ctx.say(`   round ${i + 1}: ours ${o.at(-1)!.seconds.toFixed(1)} s, baseline ${b.at(-1)!.seconds.toFixed(1)} s`)
    }
    const best = <T extends { seconds: number }>(xs: T[]) => xs.reduce((a, x) => (x.seconds < a.seconds ? x : a))
    const bo = best(o)
    const bb = best(b)
    const same = bo.n === bb.n && bo.d === bb.d
    const ratio = bo.seconds / bb.seconds
    return [
      {
        id: 4,
        name: `broadcast: fan-out to ${ctx.opts.accounts.toLocaleString('en')} accounts`,
        unit: 's',
        ours: round(bo.seconds),
        baseline: round(bb.seconds),
        ratio: round(ratio),
        target: '≤ 1.15× time',
        holds: same && ratio <= 1.15,
        rounds: perRound(
          o.map((x) => x.seconds),
          b.map((x) => x.seconds),
          2,
        ),
        details: {
          notifications: bo.n,
          deliveries: bo.d,
          baselineNotifications: bb.n,
          baselineDeliveries: bb.d,
          batches: bo.batches,
          sameRows: same,
        },
      },
    ]
  } finally {
    await handle.close()
  }
}
