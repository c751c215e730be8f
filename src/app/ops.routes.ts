import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/database.ts'
import { AppError } from '../lib/errors.ts'
import { problem, publicProblems } from './route-helpers.ts'

const Status = Type.Object({ status: Type.String() })

/** Liveness, readiness, metrics and the OpenAPI document: what operators and orchestrators call. */
export const opsRoutes: FastifyPluginAsyncTypebox<{ db: Kysely<Database> }> = async (app, { db }) => {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { tags: ['operations'], operationId: 'healthz', summary: 'The process is alive', security: [], response: { 200: Status, ...publicProblems() } },
    },
    async () => ({ status: 'ok' }),
  )

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'readyz',
        summary: 'The service can reach its database',
        security: [],
        response: { 200: Status, ...publicProblems(), 503: problem(503) },
      },
    },
    async () => {
      try {
        await sql`select 1`.execute(db)
      } catch (cause) {
        throw new AppError('unavailable', { detail: 'The database does not answer.', cause })
      }
      return { status: 'ready' }
    },
  )

  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        security: [],
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format' }), ...publicProblems() },
      },
    },
    async (_req, reply) => reply.type(app.metricsRegistry.contentType).send(await app.metricsRegistry.metrics()),
  )

  app.get(
    '/openapi.json',
    { config: { access: 'public' }, schema: { hide: true } },
    async () => app.swagger(),
  )
}
