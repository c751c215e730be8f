/**
 * Benchmarks 1–3 on PostgreSQL: the sheet read, the recipients preview and a slot write, each of
 * ours (through auth, validation, the service and serialisation) against the bare baseline route
 * running the same SQL (bench/baseline/http-server.ts), on random accounts of the dataset. The
 * read is measured against two baselines in the same alternating rounds: the same two queries as
 * named (prepared) statements, the limit, and sent unnamed as ours sends them, kept for reference.
 * So is the write: against the same logical work in one round trip (a PL/pgSQL function), the
 * limit, and against the old baseline of 4 statements (an UPDATE and an audit INSERT), which does
 * less than ours but has a target of its own.
 */
import { auth, type BenchContext, type BenchRow, loadOptions, perRound, randomAccount, round } from '../lib/context.ts'
import { USERS_PER_ACCOUNT } from '../lib/dataset.ts'
import { alternateLoad, compareLoad, type Comparison, comparison } from '../lib/load.ts'
import { startBaseline, startService } from '../lib/processes.ts'

/**
 * The row of a requests/s comparison: its target is a lowest ratio (and a highest p99 ratio), or
 * none on a row kept for reference.
 */
export function rpsRow(
  id: number,
  name: string,
  c: Comparison,
  target: { min: number; maxP99?: number } | 'reference',
): BenchRow {
  const ratio = c.ours.rps / c.baseline.rps
  const p99Ratio = c.ours.p99 / Math.max(c.baseline.p99, 1)
  const valid = c.ours.non2xx + c.ours.errors + c.baseline.non2xx + c.baseline.errors === 0
  const t = target === 'reference' ? undefined : target
  return {
    id,
    name,
    unit: 'requests/s',
    ours: round(c.ours.rps, 0),
    baseline: round(c.baseline.rps, 0),
    ratio: round(ratio),
    target: t ? `≥ ${t.min}${t.maxP99 ? `, p99 ≤ ${t.maxP99}×` : ''}` : '—',
    // a reference row has no target, but its figures still count only when every request succeeded
    holds: t ? valid && ratio >= t.min && (t.maxP99 === undefined || p99Ratio <= t.maxP99) : valid ? null : false,
    rounds: perRound(
      c.rounds.ours.map((r) => r.rps),
      c.rounds.baseline.map((r) => r.rps),
    ),
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
      ctx.say('1. sheet read, against named and unnamed statements …')
      const r = await alternateLoad(
        {
          limit: { base: baseline.base, method: 'GET', path: () => `/read-named/${randomAccount(n)}` },
          reference: { base: baseline.base, method: 'GET', path: () => `/read/${randomAccount(n)}` },
          ours: {
            base: service.base,
            method: 'GET',
            path: () => `/v1/accounts/${randomAccount(n)}/contacts`,
            headers: auth,
          },
        },
        loadOptions(ctx),
      )
      const limit = comparison(r.ours, r.limit)
      const reference = comparison(r.ours, r.reference)
      rows.push(
        rpsRow(1, 'read: GET /v1/accounts/{id}/contacts, against named statements (the limit)', limit, {
          min: 0.7,
          maxP99: 1.5,
        }),
        rpsRow(1, 'read: the same, against unnamed statements (as ours sends them)', reference, 'reference'),
      )
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
      rows.push(rpsRow(2, 'preview: GET /v1/accounts/{id}/recipients', c, { min: 0.8 }))
    }
    if (only.has(3)) {
      ctx.say('3. slot write, against one call and against 4 statements …')
      // a different user each time, so most writes change hands: about 1 in 5 finds the user
      // already primary, a no-op for ours and for the one-call baseline (the 4 statements write
      // regardless); each side draws the same mix
      const user = (i: number) => ({ userId: `u${1 + (i % USERS_PER_ACCOUNT)}` })
      const r = await alternateLoad(
        {
          limit: { base: baseline.base, method: 'PUT', path: () => `/write-one/${randomAccount(n)}`, body: user },
          reference: { base: baseline.base, method: 'PUT', path: () => `/write/${randomAccount(n)}`, body: user },
          ours: {
            base: service.base,
            method: 'PUT',
            path: () => `/v1/accounts/${randomAccount(n)}/contacts/primary`,
            body: user,
            headers: auth,
          },
        },
        loadOptions(ctx),
      )
      rows.push(
        rpsRow(
          3,
          'write: PUT /v1/accounts/{id}/contacts/primary, against the same work in one call (the limit)',
          comparison(r.ours, r.limit),
          { min: 0.5 },
        ),
        rpsRow(3, 'write: the same, against the old 4-statement baseline', comparison(r.ours, r.reference), {
          min: 0.8,
        }),
      )
    }
  } finally {
    await service.stop()
    await baseline.stop()
  }
  return rows
}
