import { allAccountsHealth } from '../../account-health/account-health-report.ts'
import type { Config } from '../../config/config.ts'
import { systemClock } from '../../lib/clock.ts'
import { CliError } from '../cli-error.ts'
import { defineCommand } from '../command.ts'
import { openDatabase } from '../open-database.ts'
import { createProgress, type Progress } from '../progress.ts'
import { answer, answerUnlessGone, inParallel, type Remote } from '../remote.ts'
import { createReportWriter, REPORT_FORMATS, type ReportFormat, type ReportWriter } from '../report-writer.ts'

/**
 * `report [--format table|csv|json]`: every account with a contact problem (docs/PRODUCT.md, "Account health"), from the
 * database (a query per thousand accounts) or, with --url, from a server (its account list and
 * each account's GET .../health).
 */
async function report(config: Config, remote: Remote | undefined, opts: { format?: string | undefined }) {
  const format = (opts.format ?? 'table') as ReportFormat
  if (!REPORT_FORMATS.includes(format))
    throw new CliError(`--format "${opts.format}" is not one of ${REPORT_FORMATS.join(', ')}.`)
  const writer = createReportWriter(
    format,
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
  )
  const checked = remote ? await fromServer(remote, writer) : await fromDatabase(config, writer)
  writer.end(checked)
}

/** Progress that shows only once the report has taken a while: a small one prints nothing extra. */
function lateProgress(afterMs = 1000): Progress {
  const started = Date.now()
  let shown: Progress | undefined
  return {
    update(done) {
      if (!shown && Date.now() - started > afterMs) shown = createProgress('Checking accounts', { unit: 'accounts' })
      shown?.update(done)
    },
    finish: () => shown?.finish(),
  }
}

async function fromDatabase(config: Config, writer: ReportWriter): Promise<number> {
  const handle = await openDatabase(config, 'account-contacts report')
  try {
    const progress = lateProgress()
    let checked = 0
    for await (const page of allAccountsHealth(handle.db, {
      now: systemClock.now(),
      reviewIntervalDays: config.reviewIntervalDays,
    })) {
      for (const a of page) if (!a.ok) writer.add(a)
      progress.update((checked += page.length))
    }
    progress.finish()
    return checked
  } finally {
    await handle.close()
  }
}

/** Health is asked for a few accounts at a time: quicker than one by one, gentle on the server. */
const PARALLEL = 8

async function fromServer(remote: Remote, writer: ReportWriter): Promise<number> {
  const progress = lateProgress()
  let checked = 0
  let cursor: string | undefined
  do {
    const query = { limit: 200, ...(cursor ? { cursor } : {}) }
    const page = await answer(remote, () => remote.client.GET('/v1/accounts', { params: { query } }))
    const healths = await inParallel(page.data, PARALLEL, (a) =>
      // an account deleted since the list was read is simply no longer reported
      answerUnlessGone(remote, () =>
        remote.client.GET('/v1/accounts/{accountId}/health', { params: { path: { accountId: a.id } } }),
      ),
    )
    page.data.forEach((a, i) => {
      const h = healths[i]
      if (h && !h.ok) writer.add({ ...h, name: a.name })
    })
    progress.update((checked += page.data.length))
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  progress.finish()
  return checked
}

export const command = defineCommand({
  options: {
    format: { type: 'string', value: 'FORMAT', help: `${REPORT_FORMATS.join(', ')} (default table)` },
  },
  async run({ config, remote, values }) {
    await report(config, remote, { format: values.format })
    return 0
  },
})
