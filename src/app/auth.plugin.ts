import '@fastify/cookie'

import { timingSafeEqual } from 'node:crypto'

import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

import type { ApiKeyService } from '../auth/api-keys/api-keys.service.ts'
import type { SessionService } from '../auth/sessions/sessions.service.ts'
import type { Actor, RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import { type AncestorCheck, authorize } from './access.ts'
import type { RateLimits } from './rate-limit.ts'

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null
    /** The actor and request id, as services take them. Only on authenticated routes. */
    ctx(): RequestContext
  }
}

/** The settings page's cookies: the session token (httpOnly) and the CSRF token the page echoes. */
export const SESSION_COOKIE = 'ac_session'
export const CSRF_COOKIE = 'ac_csrf'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/** The bearer token of the request, if it sent one. */
export function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization
  if (!h) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
  return m?.[1]
}

/**
 * Resolves the actor from `Authorization: Bearer` (a platform key or a session token) and applies
 * the route's `config.access`. Routes without an access declaration are refused: a forgotten
 * declaration fails closed. With `limits`, it also charges each request to its budget, in the
 * order rate-limit.ts explains: a token is looked up only once its address has paid for the check, and
 * a request is charged to its credential only once the credential has proved good.
 */
export const authPlugin = fp(
  async (
    app: FastifyInstance,
    deps: {
      apiKeys: Pick<ApiKeyService, 'authenticate'>
      sessions: Pick<SessionService, 'authenticate'>
      /** For the admins of a parent account, who manage its descendants (access.ts). */
      isAncestor: AncestorCheck
      limits?: RateLimits | undefined
    },
  ) => {
    const limits = deps.limits
    app.decorateRequest('actor', null)
    app.decorateRequest('ctx', function (this: FastifyRequest): RequestContext {
      if (!this.actor) throw new AppError('unauthenticated')
      return { actor: this.actor, requestId: this.id }
    })

    // onRequest, before the body is read: a caller who may not call learns nothing about its input.
    app.addHook('onRequest', async (request, reply) => {
      const access = request.routeOptions.config.access
      if (access === 'public' || access === 'metrics' || request.is404) return limits?.admitOpen(request, reply)
      if (access === undefined) throw new Error(`route ${request.routeOptions.url} declares no access`)
      // A bearer token (API clients) or, for the settings page, the session cookie. A write made
      // with the cookie must echo the CSRF cookie in a header, which another site cannot read.
      const fromHeader = bearer(request)
      const fromCookie = fromHeader ? undefined : request.cookies?.[SESSION_COOKIE]
      const token = fromHeader ?? (fromCookie?.startsWith('acs_') ? fromCookie : undefined)
      // any Authorization header counts as presenting a credential, a malformed one too
      if (request.headers.authorization !== undefined || fromCookie !== undefined)
        await limits?.spendCheck(request, token)
      const actor = token ? await resolve(token) : undefined
      if (actor && token) limits?.proven(token)
      if (!actor) {
        await limits?.charge(request, reply)
        throw new AppError('unauthenticated', {
          detail: token
            ? 'The token is not valid, expired or revoked.'
            : 'Send a platform API key or a session token as "Authorization: Bearer <token>".',
          headers: { 'www-authenticate': 'Bearer' },
        })
      }
      if (fromCookie && !SAFE_METHODS.has(request.method)) {
        const sent = request.headers['x-csrf-token']
        const expected = request.cookies?.[CSRF_COOKIE]
        if (typeof sent !== 'string' || !expected || !sameSecret(sent, expected)) {
          await limits?.charge(request, reply)
          throw new AppError('forbidden', {
            detail: 'A change made with the session cookie needs the X-CSRF-Token header of the page.',
          })
        }
      }
      request.actor = actor
      await limits?.charge(request, reply)
      await authorize(actor, access, (request.params as { accountId?: string } | undefined)?.accountId, deps.isAncestor)
    })

    async function resolve(token: string): Promise<Actor | undefined> {
      if (token.startsWith('acs_')) {
        const s = await deps.sessions.authenticate(token)
        return s && { type: 'user', id: s.userId, accountId: s.accountId, role: s.role, sessionId: s.sessionId }
      }
      const keyId = await deps.apiKeys.authenticate(token)
      return keyId ? { type: 'api_key', id: keyId } : undefined
    }
  },
  { name: 'auth' },
)
