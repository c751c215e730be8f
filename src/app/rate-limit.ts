import { isIPv4, isIPv6 } from 'node:net'

import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import { AppError } from '../lib/errors.ts'
import { hashToken } from '../lib/hash.ts'
import { ipv6Bytes } from '../lib/ip.ts'
import { bearer } from './auth.plugin.ts'
import { CounterStore } from './rate-limit-store.ts'

/** Every budget is counted over the same window: a minute. */
const WINDOW_MS = 60_000
/**
 * Tokens that proved good are remembered (as hashes) this long, at most PROVEN_MAX of them, so that
 * a client keeps working from an address whose budget for checks someone else there spent (an office,
 * a proxy): its token is still checked, a guessed one is not.
 */
const PROVEN_MS = 60 * 60_000
const PROVEN_MAX = 10_000

/** The public routes that check a token themselves declare `config.checksToken` (access.ts). */
const checksToken = (request: FastifyRequest) => request.routeOptions.config.checksToken === true

/**
 * The client a budget belongs to: an IPv4 address (IPv4-mapped IPv6 too), or an IPv6 client's /64,
 * which is what one subscriber usually gets: counting each of its addresses apart would give it
 * 2^64 budgets.
 */
export function addressKey(ip: string): string {
  if (isIPv4(ip)) return ip
  if (!isIPv6(ip.split('%')[0]!)) return ip
  const b = ipv6Bytes(ip)
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.slice(12).join('.')
  const group = (i: number) => ((b[i]! << 8) | b[i + 1]!).toString(16)
  return `${[0, 2, 4, 6].map(group).join(':')}::/64`
}

export interface RateLimitSettings {
  /** Requests a minute per caller: an authenticated credential, or else the client's address. */
  perMinute: number
  /** Credentials a minute per address that have not proved good; once spent, they are not checked. */
  authFailuresPerMinute: number
}

/**
 * The request budgets, counted in this process. A request is charged to its credential only once
 * the credential has proved good; until then (no credential, a public route, a token that fails)
 * to the client's address (`request.ip`, which believes X-Forwarded-For only as TRUST_PROXY says;
 * an IPv6 client by its /64, addressKey). A made-up Authorization header therefore buys no budget
 * of its own. Checking a credential has a second, smaller budget per address: each credential not
 * proved good lately, and each request to a route that checks a token, spends one unit of it
 * before anything is looked up, so guessing keys or sessions is throttled even when the guesses
 * are sent at once, and costs the database nothing once the budget is spent.
 */
export interface RateLimits {
  /** A request to a route without an actor (public, metrics, unknown): charged to its address. */
  admitOpen(request: FastifyRequest, reply: FastifyReply): Promise<void>
  /**
   * Before a presented credential is looked up: spends one unit of its address's budget for
   * checking credentials, 429 once that is spent; a token that proved good lately spends nothing.
   */
  spendCheck(request: FastifyRequest, token: string | undefined): Promise<void>
  /** The token authenticated: it is let through while its address is refused (PROVEN_MS). */
  proven(token: string): void
  /** Charges the request to its caller's budget (the actor when set, else the address); 429 once spent. */
  charge(request: FastifyRequest, reply: FastifyReply): Promise<void>
}

/** The caller a request is charged to: its authenticated actor, or else its address. */
const callerKey = (request: FastifyRequest) =>
  request.actor ? `${request.actor.type}:${request.actor.id}` : `ip:${addressKey(request.ip)}`

const refused = (what: string, max: number, ttlInSeconds: number) =>
  new AppError('rate-limited', {
    detail: `At most ${max} ${what} a minute; try again in ${ttlInSeconds} s.`,
    headers: { 'retry-after': String(ttlInSeconds) },
  })

/** The budgets of `settings` on `app` (they count nothing until called). */
export async function installRateLimits(app: FastifyInstance, settings: RateLimitSettings): Promise<RateLimits> {
  // the plugin's own hooks are off (`global: false`): the auth hook decides when a request is charged
  await app.register(rateLimit, { global: false, max: settings.perMinute, timeWindow: WINDOW_MS, store: CounterStore })
  const perCaller = app.createRateLimit({ max: settings.perMinute, timeWindow: WINDOW_MS, keyGenerator: callerKey })
  const checks = app.createRateLimit({
    max: settings.authFailuresPerMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => `check:${addressKey(request.ip)}`,
  })
  const checksOn = settings.authFailuresPerMinute > 0

  const charge = async (request: FastifyRequest, reply: FastifyReply) => {
    const r = await perCaller(request)
    if (r.isAllowed) return
    reply
      .header('x-ratelimit-limit', r.max)
      .header('x-ratelimit-remaining', r.remaining)
      .header('x-ratelimit-reset', r.ttlInSeconds)
    if (r.isExceeded) throw refused('requests', r.max, r.ttlInSeconds)
  }
  // hash → until (performance.now()); a Map keeps insertion order, so the first key is the oldest
  const provenTokens = new Map<string, number>()
  const wasProven = (token: string | undefined) => {
    const until = token === undefined ? undefined : provenTokens.get(hashToken(token))
    return until !== undefined && until > performance.now()
  }
  // Spent before the check, counted as it is spent (the store increments atomically): guesses sent
  // at once cannot all pass a count read before any of them has failed.
  const spendCheck = async (request: FastifyRequest, token: string | undefined) => {
    if (!checksOn || wasProven(token)) return
    const r = await checks(request)
    if (!r.isAllowed && r.isExceeded) throw refused('unproven credentials or token checks', r.max, r.ttlInSeconds)
  }
  const proven = (token: string) => {
    const hash = hashToken(token)
    provenTokens.delete(hash)
    if (provenTokens.size >= PROVEN_MAX) provenTokens.delete(provenTokens.keys().next().value!)
    provenTokens.set(hash, performance.now() + PROVEN_MS)
  }
  // The scraper's METRICS_TOKEN is checked by its route (ops.routes.ts): once it worked, the
  // scrapes no longer spend the address's budget.
  app.addHook('onResponse', async (request, reply) => {
    const token =
      request.routeOptions.config.access === 'metrics' && reply.statusCode === 200 ? bearer(request) : undefined
    if (token !== undefined) proven(token)
  })
  return {
    charge,
    spendCheck,
    proven,
    async admitOpen(request, reply) {
      // a token route's own token is in its query or body; only METRICS_TOKEN comes as a bearer token
      if (checksToken(request)) await spendCheck(request, bearer(request))
      await charge(request, reply)
    },
  }
}
