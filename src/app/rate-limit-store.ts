import type { FastifyRateLimitStore } from '@fastify/rate-limit'

/**
 * Counters kept per budget. A flood from more clients than this within a minute evicts the
 * counters touched least lately, a spent failure budget among them (the plugin's own store keeps
 * 5,000). At about a hundred bytes each, 100,000 cost some 10 MB at most.
 */
const COUNTERS_MAX = 100_000

/**
 * Fixed-window counters, as the plugin's LocalStore, except that each answer is a copy: LocalStore
 * hands out its live counter, which the plugin reads only after an await, so requests sent at once
 * all read the count of the last of them (and all but none of a burst of first uses may pass).
 */
export class CounterStore implements FastifyRateLimitStore {
  // key → counter; a Map keeps insertion order, so re-inserting on each count makes it an LRU
  private readonly counters = new Map<string, { current: number; startMs: number }>()

  incr(
    key: string,
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow: number,
  ): void {
    const now = Date.now()
    const old = this.counters.get(key)
    const counter = old && old.startMs + timeWindow > now ? old : { current: 0, startMs: now }
    counter.current++
    this.counters.delete(key)
    this.counters.set(key, counter)
    if (this.counters.size > COUNTERS_MAX) this.counters.delete(this.counters.keys().next().value!)
    callback(null, { current: counter.current, ttl: counter.startMs + timeWindow - now })
  }

  /** Each limiter (createRateLimit) counts in a store of its own. */
  child(): FastifyRateLimitStore {
    return new CounterStore()
  }
}
