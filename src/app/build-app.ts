import { randomUUID } from 'node:crypto'

import cookie from '@fastify/cookie'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import helmetHeaders from 'helmet'
import pino from 'pino'

import { healthRoutes } from '../account-health/account-health.routes.ts'
import { isAncestor } from '../accounts/accounts.repository.ts'
import { accountRoutes } from '../accounts/accounts.routes.ts'
import { auditRoutes } from '../audit/audit.routes.ts'
import { sessionRoutes } from '../auth/sessions/sessions.routes.ts'
import { emailEventRoutes } from '../bounces/email-events.routes.ts'
import { suppressionRoutes } from '../bounces/suppressions.routes.ts'
import { broadcastRoutes } from '../broadcasts/broadcasts.routes.ts'
import type { Config } from '../config/config.ts'
import { type EmbeddingConfig, NO_EMBEDDING } from '../config/embedding-config.ts'
import { contactRoutes } from '../contacts/contacts.routes.ts'
import { correctionRoutes } from '../corrections/corrections.routes.ts'
import type { WorkerLiveness } from '../delivery/worker.ts'
import { logStream } from '../lib/log-format.ts'
import { notificationRoutes } from '../notifications/notifications.routes.ts'
import { routingRoutes } from '../routing/routing.routes.ts'
import { uiRoutes } from '../ui/ui.routes.ts'
import { userRoutes } from '../users/users.routes.ts'
import { verificationRoutes } from '../verification/verification.routes.ts'
import { webhookEndpointRoutes } from '../webhooks/webhook-endpoints.routes.ts'
import { authPlugin } from './auth.plugin.ts'
import type { Services } from './container.ts'
import { registerErrorHandling, sendProblem } from './error-handler.ts'
import { type HttpServerConfig, httpServerOptions } from './http-server-options.ts'
import { installJsonBodyParser } from './json-body.ts'
import { metricsPlugin } from './metrics.plugin.ts'
import { completeContract } from './openapi-contract.ts'
import { openApiRoutes, opsRoutes } from './ops.routes.ts'
import { installRateLimits } from './rate-limit.ts'
import { SHARED_SCHEMAS } from './shared-schemas.ts'
import { installValidation } from './validation.ts'

export type AppConfig = Pick<Config, 'publicUrl' | 'logLevel' | 'rateLimitPerMinute'> &
  Partial<HttpServerConfig & Pick<Config, 'logFormat' | 'metricsToken' | 'rateLimitAuthFailuresPerMinute'>> & {
    /** Where demo mail is written as `.eml` (no SMTP_URL): the page lists it. */
    mailDir?: string | undefined
    /** Who may frame the settings page, and its theme (config/embedding-config.ts); unset: nobody, no theme. */
    embedding?: EmbeddingConfig
  }

/** What the app reports on that it does not own: the delivery worker of the same process. */
export interface AppProbes {
  worker?: (() => WorkerLiveness | undefined) | undefined
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/

/**
 * An error as it is logged: pino's own serializer, without the bytes Node keeps with a request it
 * could not parse (`rawPacket`: the request as received, its Authorization header included, which
 * Fastify logs at trace level). Any error logged at any level goes through here.
 */
function errorForLog(err: Error) {
  const { rawPacket: _raw, ...rest } = pino.stdSerializers.err(err) as ReturnType<typeof pino.stdSerializers.err> & {
    rawPacket?: unknown
  }
  return rest
}

/**
 * A request as it is logged: Fastify's own fields, but the query's values left out, because a
 * query can be a credential (the verification link's `?token=`) and logs are kept and shared.
 */
function requestForLog(req: FastifyRequest) {
  const q = req.url.indexOf('?')
  const names =
    q < 0
      ? []
      : req.url
          .slice(q + 1)
          .split('&')
          .map((p) => `${p.split('=')[0]}=[redacted]`)
  const url = q < 0 ? req.url : `${req.url.slice(0, q)}?${names.join('&')}`
  return { method: req.method, url, host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }
}

/**
 * The HTTP application: plugins, then every domain's routes. No listening and no database
 * connection here, so tests build it around their own database and call it with `inject`.
 */
export async function buildApp(
  services: Services,
  config: AppConfig,
  probes: AppProbes = {},
): Promise<FastifyInstance> {
  const https = config.publicUrl.startsWith('https:')
  const embedding = config.embedding ?? NO_EMBEDDING
  const framed = embedding.frameAncestors.length > 0
  const securityHeaders = {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // the theme's logo comes from the host product's own address
        imgSrc: ["'self'", 'data:', ...(embedding.theme.logo ? [new URL(embedding.theme.logo).origin] : [])],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // nobody may frame the page, unless the operator lists the host product's origins
        frameAncestors: framed ? [...embedding.frameAncestors] : ["'none'"],
        // Upgrading and HSTS only where the service is reached over HTTPS (not on localhost).
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    strictTransportSecurity: https,
    // X-Frame-Options cannot name another origin; where frames are allowed, the CSP says by whom
    ...(framed ? { xFrameOptions: false as const } : {}),
  }
  // helmet's middleware, built once: on every reply through the hook below, and on the replies no
  // hook sees (the router's refusals). @fastify/helmet builds it anew for every request, which
  // cost more CPU than the rest of a sheet read (bench/README.md).
  const setSecurityHeaders = helmetHeaders(securityHeaders)
  /** What every reply carries, errors included: its request id and the security headers. */
  const markReply = (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id)
    setSecurityHeaders(request.raw, reply.raw, () => {})
  }
  const stream = logStream(config.logFormat ?? 'auto')
  const app = Fastify({
    logger:
      config.logLevel === 'silent'
        ? false
        : // no `redact`: the serializers already leave out headers, query values and raw packets,
          // and pino's redaction cost a sheet read a quarter of its CPU (bench/README.md)
          {
            level: config.logLevel,
            serializers: { req: requestForLog, err: errorForLog },
            ...(stream ? { stream } : {}),
          },
    ...httpServerOptions(config),
    bodyLimit: 1024 * 1024,
    // A caller's X-Request-Id is kept when it is harmless, so that logs can be joined across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    requestIdHeader: false,
    return503OnClosing: true,
    // The router's own refusals (a path parameter over 100 characters, a malformed %-escape) come
    // before any hook: without this they would be Fastify's plain JSON, not a problem.
    frameworkErrors: (err, request, reply) => {
      markReply(request, reply)
      return sendProblem(reply, err, request)
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // JSON only: Fastify reads text/plain bodies by default, which would reach validation as a string.
  app.removeContentTypeParser('text/plain')
  installJsonBodyParser(app)
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema)
  installValidation(app, SHARED_SCHEMAS)
  registerErrorHandling(app)

  app.addHook('onRequest', (request, reply, done) => {
    markReply(request, reply)
    done()
  })
  const limits =
    config.rateLimitPerMinute > 0
      ? await installRateLimits(app, {
          perMinute: config.rateLimitPerMinute,
          authFailuresPerMinute: config.rateLimitAuthFailuresPerMinute ?? 0,
        })
      : undefined
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'account-contacts',
        version: '1.0.0',
        description: "Who is each customer account's point of contact for what. Errors are RFC 9457 problems.",
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A platform API key or a session token' },
          metricsToken: { type: 'http', scheme: 'bearer', description: "The scraper's METRICS_TOKEN" },
        },
      },
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    transformObject: (d) => ('openapiObject' in d ? completeContract(d.openapiObject) : d.swaggerObject),
  })
  await app.register(cookie)
  await app.register(metricsPlugin, { db: services.db, worker: probes.worker })
  await app.register(authPlugin, {
    apiKeys: services.apiKeys,
    sessions: services.sessions,
    isAncestor: (ancestorId, accountId) => isAncestor(services.db, ancestorId, accountId),
    limits,
  })

  await app.register(opsRoutes, {
    db: services.db,
    registry: app.metricsRegistry,
    worker: probes.worker,
    metrics: { token: config.metricsToken, withoutToken: 'hidden' },
  })
  await app.register(openApiRoutes)
  await app.register(accountRoutes, { accounts: services.accounts })
  await app.register(userRoutes, { users: services.users })
  await app.register(contactRoutes, { contacts: services.contacts })
  await app.register(sessionRoutes, { sessions: services.sessions })
  await app.register(auditRoutes, { audit: services.audit })
  await app.register(healthRoutes, { health: services.health })
  await app.register(verificationRoutes, { links: services.verificationLinks })
  await app.register(routingRoutes, { notifications: services.notifications })
  await app.register(notificationRoutes, { notifications: services.notifications })
  await app.register(broadcastRoutes, { broadcasts: services.broadcasts })
  await app.register(webhookEndpointRoutes, { webhooks: services.webhooks })
  await app.register(suppressionRoutes, { suppressions: services.suppressions })
  await app.register(correctionRoutes, { corrections: services.corrections })
  await app.register(emailEventRoutes, { bounces: services.bounces, verifiers: services.emailEventVerifiers })
  await app.register(uiRoutes, { services, publicUrl: config.publicUrl, mailDir: config.mailDir, embedding })
  return app
}
