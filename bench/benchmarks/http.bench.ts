/**
 * Benchmarks 1–3 on PostgreSQL: the sheet read, the recipients preview and a slot write, each of
 * ours (through auth, validation, the service and serialisation) against the bare baseline route
 * running the same SQL (bench/baseline/http-server.ts), on random accounts of the dataset.
 */
import { auth, type BenchContext, type BenchRow, loadOptions, randomAccount, round } from '../lib/context.ts'
import { USERS_PER_ACCOUNT } from '../lib/dataset.ts'
import { compareLoad, type Comparison } from '../lib/load.ts'
import { startBaseline, startService } from '../lib/processes.ts'

/** The row of a requests/s comparison. */
export function rpsRow(
  id: number,
  name: string,
  c: Comparison,
  min: number,
  extra: { maxP99?: number } = {},
): BenchRow {
  const ratio = c.ours.rps / c.baseline.rps
  const p99Ratio = c.ours.p99 / Math.max(c.baseline.p99, 1)
  const valid = c.ours.non2xx + c.ours.errors + c.baseline.non2xx + c.baseline.errors === 0
  const holds = valid && ratio >= min && (extra.maxP99 === undefined || p99Ratio <= extra.maxP99)
  return {
    id,
    name,
    unit: 'requests/s',
    ours: round(c.ours.rps, 0),
    baseline: round(c.baseline.rps, 0),
    ratio: round(ratio),
    target: `≥ ${min}${extra.maxP99 ? `, p99 ≤ ${extra.maxP99}×` : ''}`,
    holds,
    details: {
      oursP50Ms: c.ours.p50,
      oursP99Ms: c.ours.p99,
      baselineP50Ms: c.baseline.p50,
      baselineP99Ms: c.baseline.p99,
      p99Ratio: round(p99Ratio),
      requests: c.ours.requests + c.baseline.requests,
      failedRequests: c.ours.non2xx + c.ours.errors + c.baseline.non2xx + c.baseline.errors,
    },
  }
}

export async function httpBenchmarks(ctx: BenchContext, only: Set<number>): Promise<BenchRow[]> {
  const n = ctx.opts.accounts
  const service = await startService({ DATABASE_URL: ctx.pgUrl })
  ctx.watch(service, 'serve (PostgreSQL), benchmarks 1-3')
  const baseline = await startBaseline({ DATABASE_URL: ctx.pgUrl })
  const rows: BenchRow[] = []
  try {
    if (only.has(1)) {
      ctx.say('1. sheet read …')
      const c = await compareLoad(
        { base: service.base, method: 'GET', path: () => `/v1/accounts/${randomAccount(n)}/contacts`, headers: auth },
        { base: baseline.base, method: 'GET', path: () => `/read/${randomAccount(n)}` },
        loadOptions(ctx),
      )
      rows.push(rpsRow(1, 'read: GET /v1/accounts/{id}/contacts', c, 0.8, { maxP99: 1.5 }))
    }
    if (only.has(2)) {
      ctx.say('2. recipients preview …')
      const c = await compareLoad(
        {
          base: service.base,
          method: 'GET',
          path: () => `/v1/accounts/${randomAccount(n)}/recipients?category=invoice`,
          headers: auth,
        },
        { base: baseline.base, method: 'GET', path: () => `/preview/${randomAccount(n)}` },
        loadOptions(ctx),
      )
      rows.push(rpsRow(2, 'preview: GET /v1/accounts/{id}/recipients', c, 0.7))
    }
    if (only.has(3)) {
      ctx.say('3. slot write …')
      // a different user each time, so (almost) every write changes hands
      const user = (i: number) => ({ userId: `u${1 + (i % USERS_PER_ACCOUNT)}` })
      const c = await compareLoad(
        {
          base: service.base,
          method: 'PUT',
          path: () => `/v1/accounts/${randomAccount(n)}/contacts/primary`,
          body: user,
          headers: auth,
        },
        { base: baseline.base, method: 'PUT', path: () => `/write/${randomAccount(n)}`, body: user },
        loadOptions(ctx),
      )
      rows.push(rpsRow(3, 'write: PUT /v1/accounts/{id}/contacts/primary', c, 0.6))
    }
  } finally {
    await service.stop()
    await baseline.stop()
  }
  return rows
}
