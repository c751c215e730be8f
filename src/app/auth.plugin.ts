import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ApiKeyService } from '../auth/api-keys/api-keys.service.ts'
import type { SessionService } from '../auth/sessions/sessions.service.ts'
import type { Actor, RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import { authorize } from './access.ts'

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null
    /** The actor and request id, as services take them. Only on authenticated routes. */
    ctx(): RequestContext
  }
}

/** The bearer token of the request, if it sent one. */
function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization
  if (!h) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
  return m?.[1]
}

/**
 * Resolves the actor from `Authorization: Bearer` (a platform key or a session token) and applies
 * the route's `config.access`. Routes without an access declaration are refused: a forgotten
 * declaration fails closed.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, deps: { apiKeys: Pick<ApiKeyService, 'authenticate'>; sessions: Pick<SessionService, 'authenticate'> }) => {
    app.decorateRequest('actor', null)
    app.decorateRequest('ctx', function (this: FastifyRequest): RequestContext {
      if (!this.actor) throw new AppError('unauthenticated')
      return { actor: this.actor, requestId: this.id }
    })

    // onRequest, before the body is read: a caller who may not call learns nothing about its input.
    app.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config.access
      if (access === 'public' || request.is404) return
      if (access === undefined) throw new Error(`route ${request.routeOptions.url} declares no access`)
      const token = bearer(request)
      const actor = token ? await resolve(token) : undefined
      if (!actor) {
        throw new AppError('unauthenticated', {
          detail: token ? 'The token is not valid, expired or revoked.' : 'Send a platform API key or a session token as "Authorization: Bearer <token>".',
          headers: { 'www-authenticate': 'Bearer' },
        })
      }
      request.actor = actor
      authorize(actor, access, (request.params as { accountId?: string } | undefined)?.accountId)
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
