/**
 * Benchmark 11: an email service's events ingested. M delivered mails of the dataset (one
 * `account_update` to the primary contact of each of the first M accounts, each with its return
 * token), then M SendGrid events about them, one in ten a hard bounce and the rest deliveries,
 * posted in signed batches of 100 (as SendGrid posts them), 4 requests at a time. Ours:
 * `POST /v1/email-events/sendgrid`, which records every event and, for a bounce, suppresses the
 * address, queues the fallback and the "fix this contact" mail, and writes the events and the
 * audit. Baseline: the same signature and reference checks, then one UPDATE of the deliveries the
 * batch names (bench/baseline/http-server.ts). Alternating rounds, the state reset before each.
 */
import { generateKeyPairSync, sign } from 'node:crypto'

import { sql } from 'kysely'

import { signRef } from '../../src/bounces/return-path.ts'
import { connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts'
import { createSecretDeriver } from '../../src/lib/derived-secrets.ts'
import { type BenchContext, type BenchRow, perRound, round } from '../lib/context.ts'
import { median } from '../lib/load.ts'
import { BENCH_SECRET_KEY, startBaseline, startService } from '../lib/processes.ts'
import { fillOutbox } from './delivery.bench.ts'

const BATCH = 100
const IN_FLIGHT = 4
const BOUNCE_EVERY = 10

/** One delivered `account_update` mail to each of the first `m` accounts, each with its return token and address. */
async function delivered(handle: DatabaseHandle, m: number): Promise<{ token: string; recipient: string }[]> {
  await sql`truncate mail_events, suppressions`.execute(handle.db)
  await fillOutbox(handle, m)
  const r = await sql<{ return_token: string; recipient: string }>`
    update deliveries set status = 'delivered', delivered_at = now(),
      return_token = replace(gen_random_uuid()::text, '-', '')
    returning return_token, recipient`.execute(handle.db)
  return r.rows.map((x) => ({ token: x.return_token, recipient: x.recipient }))
}

/** Back to "all delivered, nothing reported": what a round of either side changed is undone. */
async function reset(handle: DatabaseHandle): Promise<void> {
  await sql`delete from deliveries where fallback_for is not null or notification_id in (
    select id from notifications where kind = 'system')`.execute(handle.db)
  await sql`delete from notifications where kind = 'system'`.execute(handle.db)
  await sql`truncate mail_events, suppressions, audit_events`.execute(handle.db)
  // the webhook deliveries of the events go with them (on delete cascade)
  await sql`delete from events`.execute(handle.db)
  await sql`update deliveries set status = 'delivered', last_error = null where status <> 'delivered'`.execute(
    handle.db,
  )
}

/** The events as SendGrid would post them, in batches. */
function batches(mails: { token: string; recipient: string }[]): string[] {
  const secrets = createSecretDeriver(BENCH_SECRET_KEY)
  const at = Math.floor(Date.now() / 1000)
  const events = mails.map(({ token, recipient }, i) => {
    const base = {
      // the mail's own address: a report about another one is a forward's, which suppresses nothing
      email: recipient,
      timestamp: at,
      sg_event_id: `sg-${i}`,
      ac_ref: signRef(secrets, token),
    }
    return i % BOUNCE_EVERY === 0
      ? {
          ...base,
          event: 'bounce',
          type: 'bounce',
          status: '5.1.1',
          reason: '550 5.1.1 The email account does not exist',
        }
      : { ...base, event: 'delivered', response: '250 OK' }
  })
  const out: string[] = []
  for (let i = 0; i < events.length; i += BATCH) out.push(JSON.stringify(events.slice(i, i + BATCH)))
  return out
}

/** Posts every batch, signed now, IN_FLIGHT at a time; answers events per second. */
async function post(url: string, bodies: string[], key: ReturnType<typeof generateKeyPairSync>['privateKey']) {
  let next = 0
  let events = 0
  const t0 = performance.now()
  const lane = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!
      const timestamp = String(Math.floor(Date.now() / 1000))
      const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key).toString(
        'base64',
      )
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-timestamp': timestamp,
          'x-twilio-email-event-webhook-signature': signature,
        },
        body,
      })
      if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`)
      events += (JSON.parse(body) as unknown[]).length
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  return events / ((performance.now() - t0) / 1000)
}

export async function emailEventsBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  const m = Math.min(ctx.opts.quick ? 1000 : 10_000, ctx.opts.accounts)
  ctx.say(`11. ${m.toLocaleString('en')} SendGrid events ingested (1 in ${BOUNCE_EVERY} a bounce) …`)
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const publicKey = keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')
  const handle = connectPostgres(ctx.pgUrl)
  const service = await startService({ DATABASE_URL: ctx.pgUrl, SENDGRID_WEBHOOK_PUBLIC_KEY: publicKey })
  ctx.watch(service, 'serve (PostgreSQL), benchmark 11')
  const baseline = await startBaseline({
    DATABASE_URL: ctx.pgUrl,
    SENDGRID_PUBLIC_KEY: publicKey,
    SECRET_KEY: BENCH_SECRET_KEY,
  })
  try {
    const bodies = batches(await delivered(handle, m))
    const oursRates: number[] = []
    const baselineRates: number[] = []
    const bounced: number[] = []
    for (let r = 0; r < ctx.opts.rounds; r++) {
      await reset(handle)
      baselineRates.push(await post(`${baseline.base}/email-events`, bodies, keys.privateKey))
      await reset(handle)
      oursRates.push(await post(`${service.base}/v1/email-events/sendgrid`, bodies, keys.privateKey))
      const b = await sql<{ n: number }>`select count(*)::int as n from suppressions`.execute(handle.db)
      bounced.push(b.rows[0]!.n)
      ctx.say(
        `   round ${r + 1}: ours ${oursRates.at(-1)!.toFixed(0)} events/s (${bounced.at(-1)} suppressed), baseline ${baselineRates.at(-1)!.toFixed(0)} events/s`,
      )
    }
    await reset(handle)
    await sql`truncate notifications, deliveries, broadcasts`.execute(handle.db)
    const ours = median(oursRates)
    const base = median(baselineRates)
    const want = Math.ceil(m / BOUNCE_EVERY)
    const missing = bounced.reduce((a, b) => a + Math.abs(want - b), 0)
    return [
      {
        id: 11,
        name: `email events: ${m.toLocaleString('en')} SendGrid events (1 in ${BOUNCE_EVERY} a bounce), batches of ${BATCH}`,
        unit: 'events/s',
        ours: round(ours, 0),
        baseline: round(base, 0),
        ratio: round(ours / base),
        target: '≥ 0.7',
        holds: missing === 0 && ours / base >= 0.7,
        rounds: perRound(oursRates, baselineRates),
        details: { events: m, suppressedPerRound: want, ...(missing === 0 ? {} : { failedRequests: missing }) },
      },
    ]
  } finally {
    await service.stop()
    await baseline.stop()
    await handle.close()
  }
}
