/**
 * Benchmark 7: how the read's cost grows with the data. The read of benchmark 1 on a 10,000-account
 * database against the same read on the main dataset (100,000 or 1,000,000 accounts), both
 * services up at once and measured in alternating rounds.
 */
import { auth, type BenchContext, type BenchRow, loadOptions, perRound, randomAccount, round } from '../lib/context.ts'
import { defaultDataset, postgresDataset, relatedDataset } from '../lib/dataset.ts'
import { compareLoad } from '../lib/load.ts'
import { startService } from '../lib/processes.ts'

const SMALL = 10_000

export async function growthBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  const small = Math.min(SMALL, ctx.opts.accounts)
  const large = ctx.opts.accounts
  ctx.say(`7. growth: read at ${small.toLocaleString('en')} vs ${large.toLocaleString('en')} accounts …`)
  const smallUrl =
    small === large
      ? ctx.pgUrl
      : await postgresDataset(
          ctx.opts.adminUrl,
          relatedDataset(ctx.opts, defaultDataset(small), String(small)),
          small,
          ctx.say,
        )
  const a = await startService({ DATABASE_URL: smallUrl })
  const b = await startService({ DATABASE_URL: ctx.pgUrl })
  ctx.watch(a, `serve (${small} accounts), benchmark 7`)
  ctx.watch(b, `serve (${large} accounts), benchmark 7`)
  try {
    const read = (base: string, n: number) => ({
      base,
      method: 'GET' as const,
      path: () => `/v1/accounts/${randomAccount(n)}/contacts`,
      headers: auth,
    })
    const c = await compareLoad(read(b.base, large), read(a.base, small), loadOptions(ctx))
    const ratio = c.ours.rps / c.baseline.rps
    const failed = c.ours.non2xx + c.ours.errors + c.baseline.non2xx + c.baseline.errors
    return [
      {
        id: 7,
        name: `growth: read at ${large.toLocaleString('en')} vs ${small.toLocaleString('en')} accounts`,
        unit: 'requests/s',
        ours: round(c.ours.rps, 0),
        baseline: round(c.baseline.rps, 0),
        ratio: round(ratio),
        target: '≥ 0.9',
        holds: failed === 0 && ratio >= 0.9,
        rounds: perRound(
          c.rounds.ours.map((r) => r.rps),
          c.rounds.baseline.map((r) => r.rps),
        ),
        details: { largeP99Ms: c.ours.p99, smallP99Ms: c.baseline.p99, failedRequests: failed },
      },
    ]
  } finally {
    await a.stop()
    await b.stop()
  }
}
