/**
 * Benchmark 5: delivery into a local SMTP server that accepts everything. Ours: M notifications
 * (`account_update`, one recipient each) queued in the outbox, then `account-contacts worker`
 * claims, sends and settles them. Baseline: a bare pooled nodemailer loop sending M mails to the
 * same server. Both are timed at the server, from the first mail's arrival to the last's, so
 * process start-up counts on neither side. R alternating rounds (baseline, ours, baseline, …):
 * the outbox is filled afresh before each of ours, and a new worker process sends it.
 */
import { sql } from 'kysely'

import { createBroadcastService } from '../../src/broadcasts/broadcasts.service.ts'
import { connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts'
import { DEFAULT_POLICY } from '../../src/routing/routing-policy.ts'
import { cliNodeArgs, tsNodeArgs } from '../../test/helpers/cli-command.ts'
import { type BenchContext, type BenchRow, perRound, round } from '../lib/context.ts'
import { accountId } from '../lib/dataset.ts'
import { median } from '../lib/load.ts'
import { BENCH_SECRET_KEY, startNode } from '../lib/processes.ts'
import { startSmtpCounter } from '../peers/smtp-counter.ts'

const TIMEOUT_MS = 600_000

/** Empties the outbox and queues one `account_update` mail to each of the first `m` accounts (also benchmark 11's). */
export async function fillOutbox(handle: DatabaseHandle, m: number): Promise<void> {
  await sql`truncate notifications, deliveries, broadcasts`.execute(handle.db)
  const broadcasts = createBroadcastService({ db: handle.db, policy: DEFAULT_POLICY })
  await broadcasts.create(
    { actor: { type: 'api_key', id: 'benchmark' }, requestId: 'bench' },
    {
      category: 'account_update',
      subject: 'Important account notice',
      text: 'Your account has news for you.',
      accountIds: Array.from({ length: m }, (_, i) => accountId(i + 1)),
    },
  )
  while (await broadcasts.processBatch()) {
    // one batch a turn, until none is left
  }
}

/** Deliveries settled as delivered, waited for up to a minute until all `m` are. */
async function settledDelivered(handle: DatabaseHandle, m: number): Promise<number> {
  let delivered = 0
  for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
    const r = await sql<{ n: number }>`select count(*)::int as n from deliveries where status = 'delivered'`.execute(
      handle.db,
    )
    delivered = r.rows[0]!.n
    if (delivered >= m) break
  }
  return delivered
}

export async function deliveryBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  const m = Math.min(ctx.opts.mails, ctx.opts.accounts)
  const rounds = ctx.opts.rounds
  ctx.say(`5. delivery of ${m.toLocaleString('en')} mails, ${rounds} round${rounds === 1 ? '' : 's'} a side …`)
  const sink = await startSmtpCounter()
  const handle = connectPostgres(ctx.pgUrl)
  try {
    const baselineRates: number[] = []
    const oursRates: number[] = []
    // each of our rounds' deliveries settled as delivered, not just sent
    const delivered: number[] = []
    for (let r = 0; r < rounds; r++) {
      sink.reset()
      const base = startNode(tsNodeArgs('bench/baseline/nodemailer-loop.ts'), { SMTP_URL: sink.url, COUNT: String(m) })
      await sink.waitFor(m, TIMEOUT_MS)
      baselineRates.push(sink.rate())
      await base.stop()

      await fillOutbox(handle, m)
      sink.reset()
      const worker = startNode(
        cliNodeArgs(['worker']),
        {
          DATABASE_URL: ctx.pgUrl,
          SMTP_URL: sink.url,
          MAIL_FROM: 'bench@bench.invalid',
          LOG_LEVEL: 'warn',
          SECRET_KEY: BENCH_SECRET_KEY,
        },
        { profile: true },
      )
      ctx.watch(worker, 'worker, benchmark 5')
      await sink.waitFor(m, TIMEOUT_MS)
      oursRates.push(sink.rate())
      delivered.push(await settledDelivered(handle, m))
      await worker.stop()
      ctx.say(
        `   round ${r + 1}: ours ${oursRates.at(-1)!.toFixed(0)} mails/s (${delivered.at(-1)} settled), baseline ${baselineRates.at(-1)!.toFixed(0)} mails/s`,
      )
    }
    await sql`truncate notifications, deliveries, broadcasts`.execute(handle.db)
    const oursRate = median(oursRates)
    const baselineRate = median(baselineRates)
    const ratio = oursRate / baselineRate
    const missing = delivered.reduce((a, d) => a + Math.max(0, m - d), 0)
    return [
      {
        id: 5,
        name: `delivery: ${m.toLocaleString('en')} mails into a local SMTP server`,
        unit: 'mails/s',
        ours: round(oursRate, 0),
        baseline: round(baselineRate, 0),
        ratio: round(ratio),
        target: '≥ 0.85',
        holds: missing === 0 && ratio >= 0.85,
        rounds: perRound(oursRates, baselineRates),
        details: {
          settledDelivered: Math.min(...delivered),
          mails: m,
          ...(missing === 0 ? {} : { failedRequests: missing }),
        },
      },
    ]
  } finally {
    await handle.close()
    await sink.close()
  }
}
