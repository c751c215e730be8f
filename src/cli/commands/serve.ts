import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../app/build-app.ts'
import { createServices } from '../../app/container.ts'
import type { Config } from '../../config/config.ts'
import { DEMO_ACCOUNT_ID, DEMO_ADMIN_ID, demoApiKey, seedDemo } from '../../demo/demo.seed.ts'
import { openDatabase } from '../open-database.ts'

/**
 * Runs the API (and, from the delivery issue on, the worker). `demo`: seed the demo account;
 * `demo-if-empty` (what `npm start` passes): only when the database has no account yet.
 */
export async function serve(config: Config, opts: { demo: 'always' | 'if-empty' | 'never' }): Promise<FastifyInstance> {
  const handle = await openDatabase(config, 'account-contacts serve')
  const services = createServices({ db: handle.db, config })
  if (config.bootstrapApiKey) await services.apiKeys.ensure('bootstrap', config.bootstrapApiKey)

  let demo: { key: string; url: string } | undefined
  if (opts.demo !== 'never') {
    const isEmpty = (await services.accounts.list({ limit: 1 })).data.length === 0
    const seeded = opts.demo === 'always' || isEmpty ? await seedDemo(services) : false
    const hasDemo = seeded || (await services.accounts.get(DEMO_ACCOUNT_ID).catch(() => undefined)) !== undefined
    if (hasDemo) {
      const key = await demoApiKey(services, config.dataDir)
      const session = await services.sessions.create(
        { actor: { type: 'system', id: 'demo' }, requestId: 'start' },
        DEMO_ACCOUNT_ID,
        DEMO_ADMIN_ID,
      )
      demo = { key, url: session.url }
    }
  }

  const app = await buildApp(services, config)
  app.addHook('onClose', async () => handle.close())
  await app.listen({ port: config.port, host: config.host })

  const lines = [
    '',
    `account-contacts is running on ${handle.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : handle.where}`,
    `  API:          ${config.publicUrl}/v1   (OpenAPI: ${config.publicUrl}/openapi.json)`,
  ]
  if (demo) {
    lines.push(
      `  API key:      ${demo.key}`,
      `  Try it:       curl -H "Authorization: Bearer ${demo.key}" ${config.publicUrl}/v1/accounts`,
      `  Settings page, signed in as the demo super admin (valid 8 hours):`,
      `                ${demo.url}`,
    )
  }
  lines.push('')
  process.stdout.write(lines.join('\n') + '\n')

  // SIGTERM (orchestrators) and SIGINT (Ctrl-C): stop taking requests, finish those in flight, close.
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
  return app
}
