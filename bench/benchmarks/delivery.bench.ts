/**
 * Benchmark 5: delivery into a local SMTP server that accepts everything. Ours: M notifications
 * (`account_update`, one recipient each) queued in the outbox, then `account-contacts worker`
 * claims, sends and settles them. Baseline: a bare pooled nodemailer loop sending M mails to the
 * same server. Both are timed at the server, from the first mail's arrival to the last's, so
 * process start-up counts on neither side.
 */
import { sql } from 'kysely'

import { createBroadcastService } from '../../src/broadcasts/broadcasts.service.ts'
import { connectPostgres } from '../../src/db/connect.ts'
import { DEFAULT_POLICY } from '../../src/routing/routing-policy.ts'
import { cliNodeArgs, tsNodeArgs } from '../../test/helpers/cli-command.ts'
import { type BenchContext, type BenchRow, round } from '../lib/context.ts'
import { accountId } from '../lib/dataset.ts'
import { startNode } from '../lib/processes.ts'
import { startSmtpCounter } from '../peers/smtp-counter.ts'

export async function deliveryBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  const m = Math.min(ctx.opts.mails, ctx.opts.accounts)
  ctx.say(`5. delivery of ${m.toLocaleString('en')} mails …`)
  const sink = await startSmtpCounter()
  const handle = connectPostgres(ctx.pgUrl)
  const timeoutMs = 600_000
  try {
    await sql`truncate notifications, deliveries, broadcasts`.execute(handle.db)
    const broadcasts = createBroadcastService({ db: handle.db, policy: DEFAULT_POLICY })
    const accountIds = Array.from({ length: m }, (_, i) => accountId(i + 1))
    await broadcasts.create(
      { actor: { type: 'api_key', id: 'benchmark' }, requestId: 'bench' },
      {
        category: 'account_update',
        subject: 'Important account notice',
        text: 'Your account has news for you.',
        accountIds,
      },
    )
    while (await broadcasts.processBatch()) {
      // one batch a turn, until none is left
    }

    const base = startNode(tsNodeArgs('bench/baseline/nodemailer-loop.ts'), { SMTP_URL: sink.url, COUNT: String(m) })
    await sink.waitFor(m, timeoutMs)
    const baselineRate = sink.rate()
    await base.stop()

    sink.reset()
    const worker = startNode(
      cliNodeArgs(['worker']),
      {
        DATABASE_URL: ctx.pgUrl,
        SMTP_URL: sink.url,
        MAIL_FROM: 'bench@bench.invalid',
        LOG_LEVEL: 'warn',
        SECRET_KEY: 'benchmark-secret-key-of-at-least-32-characters',
      },
      { profile: true },
    )
    ctx.watch(worker, 'worker, benchmark 5')
    await sink.waitFor(m, timeoutMs)
    const oursRate = sink.rate()
    // every delivery settled as delivered, not just sent
    let delivered = 0
    for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      const r = await sql<{ n: number }>`select count(*)::int as n from deliveries where status = 'delivered'`.execute(
        handle.db,
      )
      delivered = r.rows[0]!.n
      if (delivered >= m) break
    }
    await worker.stop()
    await sql`truncate notifications, deliveries, broadcasts`.execute(handle.db)
    const ratio = oursRate / baselineRate
    return [
      {
        id: 5,
        name: `delivery: ${m.toLocaleString('en')} mails into a local SMTP server`,
        unit: 'mails/s',
        ours: round(oursRate, 0),
        baseline: round(baselineRate, 0),
        ratio: round(ratio),
        target: '≥ 0.7',
        holds: delivered === m && ratio >= 0.7,
        details: {
          settledDelivered: delivered,
          mails: m,
          ...(delivered === m ? {} : { failedRequests: m - delivered }),
        },
      },
    ]
  } finally {
    await handle.close()
    await sink.close()
  }
}
