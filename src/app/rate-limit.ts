import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../lib/errors.ts'
import { hashToken } from '../lib/hash.ts'
import { SESSION_COOKIE } from './auth.plugin.ts'

/** Every budget is counted over the same window: a minute. */
const WINDOW_MS = 60_000
/**
 * Tokens that proved good are remembered (as hashes) this long, at most PROVEN_MAX of them, so that
 * a client keeps working from an address whose failure budget someone else there spent (an office,
 * a proxy): its token is still checked, a guessed one is not.
 */
const PROVEN_MS = 60 * 60_000
const PROVEN_MAX = 10_000

/**
 * The public routes that check a token themselves (the sign-in link's exchange, the verification
 * link, the scraper's METRICS_TOKEN): every refusal there is a failed authentication too.
 */
const TOKEN_ROUTES = new Set(['POST /ui/session', 'GET /v1/verify-email', 'POST /v1/verify-email', 'GET /metrics'])

const isTokenRoute = (request: FastifyRequest) => TOKEN_ROUTES.has(`${request.method} ${request.routeOptions.url}`)

export interface RateLimitSettings {
  /** Requests a minute per caller: an authenticated credential, or else the client's address. */
  perMinute: number
  /** Failed authentications a minute per address; once spent, the address's tokens are not checked. */
  authFailuresPerMinute: number
}

/**
 * The request budgets, counted in this process. A request is charged to its credential only once
 * the credential has proved good; until then (no credential, a public route, a token that fails)
 * to the client's address (`request.ip`, which believes X-Forwarded-For only as TRUST_PROXY says).
 * A made-up Authorization header therefore buys no budget of its own. Failed authentications have a
 * second, smaller budget per address, checked before a token is looked up, so guessing keys or
 * sessions is throttled and costs the database nothing once the budget is spent.
 */
export interface RateLimits {
  /** A request to a route without an actor (public, metrics, unknown): charged to its address. */
  admitOpen(request: FastifyRequest, reply: FastifyReply): Promise<void>
  /**
   * Before a presented credential is looked up: 429 when its address has no failed authentications
   * left, unless the token proved good lately.
   */
  refuseFailingAddress(request: FastifyRequest, token: string | undefined): Promise<void>
  /** The token authenticated: it is let through while its address is refused (PROVEN_MS). */
  proven(token: string): void
  /** Charges the request to its caller's budget (the actor when set, else the address); 429 once spent. */
  charge(request: FastifyRequest, reply: FastifyReply): Promise<void>
}

/** The caller a request is charged to: its authenticated actor, or else its address. */
const callerKey = (request: FastifyRequest) => (request.actor ? `${request.actor.type}:${request.actor.id}` : `ip:${request.ip}`)

const refused = (what: string, max: number, ttlInSeconds: number) =>
  new AppError('rate-limited', {
    detail: `At most ${max} ${what} a minute; try again in ${ttlInSeconds} s.`,
    headers: { 'retry-after': String(ttlInSeconds) },
  })

/** The budgets of `settings` on `app` (they count nothing until called), and the failure counting. */
export async function installRateLimits(app: FastifyInstance, settings: RateLimitSettings): Promise<RateLimits> {
  // the plugin's own hooks are off (`global: false`): the auth hook decides when a request is charged
  await app.register(rateLimit, { global: false, max: settings.perMinute, timeWindow: WINDOW_MS })
  const perCaller = app.createRateLimit({ max: settings.perMinute, timeWindow: WINDOW_MS, keyGenerator: callerKey })
  const failures = app.createRateLimit({
    max: settings.authFailuresPerMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => `fail:${request.ip}`,
  })
  const failuresOn = settings.authFailuresPerMinute > 0

  // A failed authentication is a 401 to a request that presented a credential, or any refusal on a
  // route that checks a token. Counted as the answer goes out, so that the routes' own refusals
  // count as well as the hook's. (Not a 401 without any credential: the page asks whether it is
  // signed in that way, and such a request costs no lookup.)
  app.addHook('onSend', async (request, reply) => {
    if (!failuresOn) return
    const status = reply.statusCode
    const presented = request.headers.authorization !== undefined || request.cookies?.[SESSION_COOKIE] !== undefined
    if ((status === 401 && presented) || (isTokenRoute(request) && status >= 400 && status < 500 && status !== 429)) await failures(request)
  })

  const charge = async (request: FastifyRequest, reply: FastifyReply) => {
    const r = await perCaller(request)
    if (r.isAllowed) return
    reply.header('x-ratelimit-limit', r.max).header('x-ratelimit-remaining', r.remaining).header('x-ratelimit-reset', r.ttlInSeconds)
    if (r.isExceeded) throw refused('requests', r.max, r.ttlInSeconds)
  }
  // hash → until (performance.now()); a Map keeps insertion order, so the first key is the oldest
  const provenTokens = new Map<string, number>()
  const wasProven = (token: string | undefined) => {
    const until = token === undefined ? undefined : provenTokens.get(hashToken(token))
    return until !== undefined && until > performance.now()
  }
  const refuseFailingAddress = async (request: FastifyRequest, token: string | undefined) => {
    if (!failuresOn) return
    const r = await failures(request, { increment: false })
    if (!r.isAllowed && r.remaining === 0 && !wasProven(token)) throw refused('failed authentications', r.max, r.ttlInSeconds)
  }
  return {
    charge,
    refuseFailingAddress,
    proven(token) {
      const hash = hashToken(token)
      provenTokens.delete(hash)
      if (provenTokens.size >= PROVEN_MAX) provenTokens.delete(provenTokens.keys().next().value!)
      provenTokens.set(hash, performance.now() + PROVEN_MS)
    },
    async admitOpen(request, reply) {
      if (isTokenRoute(request)) await refuseFailingAddress(request, undefined)
      await charge(request, reply)
    },
  }
}
