import type { TestContext } from 'node:test'

import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { IsolationLevel } from 'kysely'

import { type AppConfig, type AppProbes, buildApp } from '../../src/app/build-app.ts'
import { createServices, type Services } from '../../src/app/container.ts'
import type { EmailEventsConfig } from '../../src/config/email-events-config.ts'
import type { DatabaseHandle, DatabaseKind } from '../../src/db/connect.ts'
import type { Clock } from '../../src/lib/clock.ts'
import { createSecretDeriver } from '../../src/lib/derived-secrets.ts'
import { freshDatabase, type TestDatabaseHandle } from './databases.ts'

/** The master key of test apps; give it to a CLI or process that shares a test app's database. */
export const TEST_SECRET_KEY = 'test-master-key-of-at-least-32-characters'

export interface TestApp {
  app: FastifyInstance
  services: Services
  /** The database; `handle.url` is its connection string on PostgreSQL. */
  handle: TestDatabaseHandle
  /** A platform API key. */
  apiKey: string
  /** `app.inject` with the platform key (or `token`) as the bearer. */
  call(opts: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>
}

/**
 * The whole application on a fresh database of `kind`, closed when the test (or suite) ends.
 * Pass the suite's context to share one database across its tests.
 */
export async function buildTestApp(
  t: Pick<TestContext, 'after'>,
  kind: DatabaseKind,
  opts: {
    config?: Partial<AppConfig>
    clock?: Clock
    webhookAllowPrivate?: boolean
    /**
     * The services' own connection to the fresh database (through a fault proxy, say), closed
     * with the app; `handle` stays a direct connection, for reading back what landed.
     */
    connectVia?: (fresh: TestDatabaseHandle) => DatabaseHandle
    /** The database's default transaction isolation (PostgreSQL); read committed otherwise. */
    isolation?: IsolationLevel
    /** What /healthz reports on besides the process (a delivery worker). */
    probes?: AppProbes
    /** Bounces and email-service events: the providers' keys, the soft-bounce limit (config/email-events-config.ts). */
    emailEvents?: Partial<Pick<EmailEventsConfig, 'providers' | 'softBounces'>>
  } = {},
): Promise<TestApp> {
  const handle = await freshDatabase(kind, opts.isolation ? { isolation: opts.isolation } : {})
  const serviceDb = opts.connectVia?.(handle)
  const config: AppConfig = { publicUrl: 'http://ui.test', logLevel: 'silent', rateLimitPerMinute: 0, ...opts.config }
  const services = createServices({
    db: (serviceDb ?? handle).db,
    config: {
      publicUrl: config.publicUrl,
      reviewIntervalDays: 180,
      webhookAllowPrivate: opts.webhookAllowPrivate ?? true,
      emailEvents: {
        providers: opts.emailEvents?.providers ?? {},
        softBounces: opts.emailEvents?.softBounces ?? { limit: 3, days: 7 },
      },
    },
    secrets: createSecretDeriver(TEST_SECRET_KEY),
    ...(opts.clock ? { clock: opts.clock } : {}),
  })
  const app = await buildApp(services, config, opts.probes)
  const { key } = await services.apiKeys.create('tests')
  t.after(async () => {
    await app.close()
    await serviceDb?.close()
    await handle.close()
  })
  const call = ({ token, ...o }: InjectOptions & { token?: string | null }) => {
    const headers = { ...(o.headers ?? {}) } as Record<string, string>
    const bearer = token === undefined ? key : token
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`
    return app.inject({ ...o, headers })
  }
  return { app, services, handle, apiKey: key, call }
}
