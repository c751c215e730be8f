/**
 * HTTP load from autocannon on loopback, bounded in time, and the comparison of a route of ours
 * with its baseline: warmed up, then measured in alternating rounds (baseline, ours, baseline,
 * ours, …) so that a noisy neighbour on this shared machine weighs on both sides alike.
 */
import autocannon from 'autocannon'

export interface LoadTarget {
  base: string
  method: 'GET' | 'PUT' | 'POST'
  /** The path of the i-th request (e.g. a random account). */
  path(i: number): string
  body?(i: number): unknown
  headers?: Record<string, string>
}

export interface LoadResult {
  requests: number
  rps: number
  p50: number
  p99: number
  /** Answers other than 2xx, and connection errors/timeouts: both must be 0 for a valid figure. */
  non2xx: number
  errors: number
}

export async function load(t: LoadTarget, opts: { seconds: number; connections: number }): Promise<LoadResult> {
  let i = 0
  const headers = { ...(t.body ? { 'content-type': 'application/json' } : {}), ...t.headers }
  const r = await autocannon({
    url: t.base,
    connections: opts.connections,
    duration: opts.seconds,
    timeout: 10,
    requests: [
      {
        method: t.method,
        headers,
        setupRequest(req) {
          const n = i++
          return { ...req, path: t.path(n), ...(t.body ? { body: JSON.stringify(t.body(n)) } : {}) }
        },
      },
    ],
  })
  return {
    requests: r.requests.total,
    rps: r.requests.total / (r.duration || opts.seconds),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Sums rounds into one figure: requests added up, rates and latencies as the median round. */
function combine(rs: LoadResult[]): LoadResult {
  return {
    requests: rs.reduce((a, r) => a + r.requests, 0),
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
    errors: rs.reduce((a, r) => a + r.errors, 0),
  }
}

export interface Comparison {
  /** Each side's rounds combined (the median round). */
  ours: LoadResult
  baseline: LoadResult
  /** Each side's rounds in the order they ran: round i of ours followed round i of the baseline. */
  rounds: { ours: LoadResult[]; baseline: LoadResult[] }
}

/** Ours against one baseline, from the rounds of each. */
export const comparison = (ours: LoadResult[], baseline: LoadResult[]): Comparison => ({
  ours: combine(ours),
  baseline: combine(baseline),
  rounds: { ours, baseline },
})

type LoadOptions = { seconds: number; rounds: number; connections: number; warmupSeconds: number }

/**
 * Loads every side in turn, in the order given: each warmed up once, then `rounds` rounds of each
 * side one after the other (a, b, c, a, b, c, …). Answers each side's rounds.
 */
export async function alternateLoad<K extends string>(
  sides: Record<K, LoadTarget>,
  opts: LoadOptions,
): Promise<Record<K, LoadResult[]>> {
  const order = Object.keys(sides) as K[]
  const w = { seconds: opts.warmupSeconds, connections: opts.connections }
  for (const k of order) await load(sides[k], w)
  const out = Object.fromEntries(order.map((k) => [k, [] as LoadResult[]])) as Record<K, LoadResult[]>
  for (let r = 0; r < opts.rounds; r++) {
    for (const k of order) out[k].push(await load(sides[k], opts))
  }
  return out
}

/** Ours against one baseline, alternating (the baseline first in each round). */
export async function compareLoad(ours: LoadTarget, baseline: LoadTarget, opts: LoadOptions): Promise<Comparison> {
  const r = await alternateLoad({ baseline, ours }, opts)
  return comparison(r.ours, r.baseline)
}
