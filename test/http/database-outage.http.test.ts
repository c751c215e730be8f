import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { describe, test, type TestContext } from 'node:test'

import type { LightMyRequestResponse } from 'fastify'

import { buildApp } from '../../src/app/build-app.ts'
import { createServices } from '../../src/app/container.ts'
import { connectPostgres } from '../../src/db/connect.ts'
import { createSecretDeriver } from '../../src/lib/derived-secrets.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { PG_OPTIONS } from '../helpers/databases.ts'
import { makeAccount } from '../helpers/factories.ts'
import { startFaultProxy } from '../peers/fault-proxy.ts'

// A database the service cannot reach (review L4): every request that needs it answers 503
// service-unavailable with Retry-After, promptly, instead of a 500; /readyz answers 503 within its
// own bound instead of hanging for the outage. Real sockets throughout: a port nobody listens on,
// a server that accepts and never answers, a proxy that resets or swallows a live PostgreSQL's
// connections, a closed PGlite.

/** /readyz's documented bound (README, Probes). */
const READY_TIMEOUT_MS = 2000

function assertUnavailable(res: LightMyRequestResponse, code = 'service-unavailable') {
  assert.equal(res.statusCode, 503, res.body)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  const body = res.json() as { code: string; detail: string }
  assert.equal(body.code, code)
  if (code === 'service-unavailable') assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/)
  assert.doesNotMatch(body.detail, /ECONN|timeout exceeded|terminated|127\.0\.0\.1/, 'the cause stays in the log')
}

/** The app on a PostgreSQL URL whose server is not there; no database was ever reached. */
async function appOn(t: TestContext, port: number, connectTimeoutMs: number) {
  const db = connectPostgres(`postgres://postgres@127.0.0.1:${port}/none`, { ...PG_OPTIONS, connectTimeoutMs })
  const services = createServices({
    db: db.db,
    config: { publicUrl: 'http://ui.test', reviewIntervalDays: 180, webhookAllowPrivate: true },
    secrets: createSecretDeriver('a master key of at least 32 characters, for this test'),
  })
  const app = await buildApp(services, { publicUrl: 'http://ui.test', logLevel: 'silent', rateLimitPerMinute: 0 })
  t.after(async () => {
    await app.close()
    await db.close()
  })
  return app
}

/** A TCP server that accepts every connection and never sends a byte. */
async function silentServer(t: TestContext) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => sockets.add(s.on('error', () => {})))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return (server.address() as AddressInfo).port
}

/** A port nothing listens on: one the system just gave out and took back. */
async function deadPort() {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

const timed = async <T>(fn: () => Promise<T>) => {
  const started = Date.now()
  const value = await fn()
  return { value, ms: Date.now() - started }
}

const call = (
  app: { inject: (o: object) => Promise<LightMyRequestResponse> },
  method: string,
  url: string,
  payload?: object,
) =>
  app.inject({
    method,
    url,
    headers: { authorization: 'Bearer acpk_somekeythatneedsthedatabase0123456789' },
    ...(payload ? { payload } : {}),
  })

describe('[postgres protocol] no database server', () => {
  test('connection refused: an authenticated read, a sign-in and /readyz answer 503 at once', async (t) => {
    const app = await appOn(t, await deadPort(), 10_000)
    const read = await timed(() => call(app, 'GET', '/v1/accounts'))
    assertUnavailable(read.value)
    assert.ok(read.ms < 2000, `answered after ${read.ms} ms`)
    assertUnavailable(
      await app.inject({ method: 'POST', url: '/ui/session', payload: { token: 'acs_acc.0123456789abcdef' } }),
    )
    assertUnavailable(await app.inject({ method: 'GET', url: '/readyz' }), 'unavailable')
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the process itself is alive')
  })

  test('a server that accepts and never answers: requests 503 at the connect timeout, /readyz 503 at its own bound', async (t) => {
    const app = await appOn(t, await silentServer(t), 800)
    const read = await timed(() => call(app, 'GET', '/v1/accounts'))
    assertUnavailable(read.value)
    assert.ok(read.ms >= 700 && read.ms < 3000, `answered after ${read.ms} ms`)

    const slowConnect = await appOn(t, await silentServer(t), 30_000)
    const ready = await timed(() => slowConnect.inject({ method: 'GET', url: '/readyz' }))
    assertUnavailable(ready.value, 'unavailable')
    assert.ok(
      ready.ms >= READY_TIMEOUT_MS - 100 && ready.ms < READY_TIMEOUT_MS + 1500,
      `/readyz answered after ${ready.ms} ms`,
    )
  })
})

describe(
  '[postgres] a live database cut off through a fault proxy',
  { skip: process.env.DATABASE_URL ? false : 'DATABASE_URL is not set' },
  () => {
    test('reset connections and a black hole: 503 with Retry-After, and the service recovers without a restart', async (t) => {
      const server = new URL(process.env.DATABASE_URL!)
      const proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port || 5432) })
      t.after(() => proxy.close())
      const app = await buildTestApp(t, 'postgres', {
        connectVia: (fresh) => {
          const url = new URL(fresh.url!)
          url.host = `127.0.0.1:${proxy.port}`
          return connectPostgres(url.toString(), { ...PG_OPTIONS, connectTimeoutMs: 800, statementTimeoutMs: 500 })
        },
      })
      const a = await makeAccount(app)
      const read = () => app.call({ method: 'GET', url: `/v1/accounts/${a.accountId}` })
      assert.equal((await read()).statusCode, 200)

      proxy.reset()
      assertUnavailable(await read())
      assertUnavailable(
        await app.call({ method: 'PATCH', url: `/v1/accounts/${a.accountId}`, payload: { name: 'Renamed' } }),
      )

      proxy.blackHole()
      const held = await timed(read)
      assertUnavailable(held.value)
      assert.ok(held.ms < 5000, `answered after ${held.ms} ms`)
      const ready = await timed(() => app.call({ method: 'GET', url: '/readyz' }))
      assertUnavailable(ready.value, 'unavailable')
      assert.ok(ready.ms < READY_TIMEOUT_MS + 1500, `/readyz answered after ${ready.ms} ms`)

      proxy.pass()
      let back: LightMyRequestResponse | undefined
      for (let i = 0; i < 20 && back?.statusCode !== 200; i++) back = await read()
      assert.equal(back?.statusCode, 200, 'the service recovers by itself')
      assert.equal(back?.json().name, `Account ${a.accountId}`, 'the refused rename changed nothing')
    })
  },
)

describe('[pglite] the embedded database closed under the app', () => {
  test('requests and /readyz answer 503', async (t) => {
    const app = await buildTestApp(t, 'pglite')
    await app.handle.close()
    assertUnavailable(await app.call({ method: 'GET', url: '/v1/accounts' }))
    assertUnavailable(await app.call({ method: 'GET', url: '/readyz' }), 'unavailable')
  })
})
