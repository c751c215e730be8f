import type { FastifyInstance } from 'fastify'

import { buildApp } from '../../app/build-app.ts'
import { startManagementServer } from '../../app/management-server.ts'
import { bounceListenerFor, mailDir, servicesFor, workerFor } from '../../app/runtime.ts'
import type { Config } from '../../config/config.ts'
import { DEMO_ACCOUNT_ID, DEMO_ADMIN_ID, demoApiKey, seedDemo } from '../../demo/demo.seed.ts'
import { CliError } from '../cli-error.ts'
import { defineCommand } from '../command.ts'
import { openDatabase, type Warner } from '../open-database.ts'
import { onShutdown } from '../shutdown.ts'

/**
 * Runs the API and (unless WORKER=off) a delivery worker in the same process. `demo`: seed the
 * demo account; `if-empty` (what `npm start` passes): only when the database has no account yet.
 */
async function serve(config: Config, opts: { demo: 'always' | 'if-empty' | 'never' }): Promise<FastifyInstance> {
  if (config.managementPort === config.port)
    throw new CliError(`MANAGEMENT_PORT must differ from PORT (${config.port}).`)
  // the app's logger exists only once the app does: until then a lost connection goes to stderr
  let log: Warner = {
    warn: (o, m) => process.stderr.write(`${m}: ${String((o as { err?: unknown }).err)}\n`),
  }
  const handle = await openDatabase(config, 'account-contacts serve', { log: { warn: (o, m) => log.warn(o, m) } })
  let nudge = () => {}
  const services = servicesFor(handle, config, { onQueued: () => nudge() })
  if (config.bootstrapApiKey && (await services.apiKeys.ensure('bootstrap', config.bootstrapApiKey)) === 'revoked') {
    // refusing (rather than reviving it, or starting without it) makes the operator act on the revocation
    await handle.close()
    throw new CliError(
      'BOOTSTRAP_API_KEY is a revoked API key, and a revoked key is not brought back. Remove BOOTSTRAP_API_KEY from the environment, or rotate it (set a new value), then start again.',
    )
  }

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

  // /healthz answers for the worker too (a stalled loop is a process to restart); it exists once the app does
  let worker: ReturnType<typeof workerFor> | undefined
  const probes = { worker: config.worker ? () => worker?.liveness() : undefined }
  const app = await buildApp(services, { ...config, mailDir: config.smtpUrl ? undefined : mailDir(config) }, probes)
  log = app.log
  worker = config.worker ? workerFor(services, config, app.log.child({ component: 'worker' })) : undefined
  if (worker) {
    nudge = worker.nudge
    worker.start()
  }
  await app.listen({ port: config.port, host: config.host })
  const bounceListener = await bounceListenerFor(services, config, app.log.child({ component: 'bounces' }))
  const managementPort = config.managementPort
  const management =
    managementPort === undefined
      ? undefined
      : await startManagementServer({
          config: { ...config, managementPort },
          db: services.db,
          registry: app.metricsRegistry,
          worker: probes.worker,
          log: app.log,
        })

  const lines = [
    '',
    `account-contacts is running on ${handle.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : handle.where}`,
    `  API:          ${config.publicUrl}/v1   (OpenAPI: ${config.publicUrl}/openapi.json)`,
    `  Mail:         ${config.smtpUrl ? 'SMTP' : `written as .eml files to ${config.dataDir}/mail`}; delivery worker ${worker ? 'on' : 'off'}`,
  ]
  if (management) lines.push(`  Management:   /healthz, /readyz and /metrics on ${config.host}:${managementPort}`)
  if (bounceListener)
    lines.push(`  Bounces:      SMTP on port ${bounceListener.port} for ${config.emailEvents.returnPath}`)
  if (demo) {
    lines.push(
      `  API key:      ${demo.key}`,
      `  Try it:       curl -H "Authorization: Bearer ${demo.key}" ${config.publicUrl}/v1/accounts`,
      `  Settings page, signed in as the demo super admin (valid 8 hours):`,
      `                ${demo.url}`,
    )
  }
  // stderr: stdout carries the JSON log lines, which a log shipper would choke on
  process.stderr.write(lines.join('\n') + '\n\n')

  // Stop taking requests, let the worker finish the sends in flight, then close the database.
  onShutdown(app.log, async () => {
    await management?.close()
    await bounceListener?.close()
    await app.close()
    await worker?.stop()
    await worker?.closeTransports()
    await handle.close()
  })
  return app
}

export const command = defineCommand({
  options: {
    demo: { type: 'boolean', help: 'seed the demo account (if missing) and print its API key and a sign-in link' },
    'demo-if-empty': { type: 'boolean', help: 'the same, only when the database has no account yet (npm start)' },
  },
  async run({ config, values }) {
    await serve(config, { demo: values.demo ? 'always' : values['demo-if-empty'] ? 'if-empty' : 'never' })
    return -1 // keeps running
  },
})
