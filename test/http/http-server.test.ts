import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { describe, test } from 'node:test'

import type { AppConfig } from '../../src/app/build-app.ts'
import { loadConfig } from '../../src/config/config.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'

// The listening server's settings: whose X-Forwarded-For is believed (the rate limiter and the logs
// key on the client's address), and the bounds on how long a request may take to arrive.

describe('[pglite] TRUST_PROXY: the rate limiter counts the client behind the proxy', () => {
  /** Statuses of anonymous GETs from the socket address 127.0.0.1 (inject's) with these X-Forwarded-For. */
  async function statuses(
    trustProxy: AppConfig['trustProxy'] | undefined,
    forwardedFor: string[],
    t: Parameters<typeof buildTestApp>[0],
  ) {
    const app = await buildTestApp(t, 'pglite', {
      config: { rateLimitPerMinute: 2, ...(trustProxy === undefined ? {} : { trustProxy }) },
    })
    const out: number[] = []
    for (const xff of forwardedFor) {
      out.push(
        (await app.call({ method: 'GET', url: '/v1/categories', token: null, headers: { 'x-forwarded-for': xff } }))
          .statusCode,
      )
    }
    return out
  }

  test('by default the header is not believed: every client behind one proxy shares its bucket', async (t) => {
    assert.deepEqual(await statuses(undefined, ['203.0.113.1', '203.0.113.1', '203.0.113.2'], t), [200, 200, 429])
  })

  test('a trusted proxy address: each forwarded client has a bucket of its own', async (t) => {
    assert.deepEqual(
      await statuses(['127.0.0.1'], ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2'], t),
      [200, 200, 429, 200],
    )
  })

  test('a proxy outside the trusted range is not believed', async (t) => {
    assert.deepEqual(await statuses(['10.0.0.0/8'], ['203.0.113.1', '203.0.113.2', '203.0.113.3'], t), [200, 200, 429])
  })

  test('a hop count: the entry that many hops in is the client, whatever a client wrote before it', async (t) => {
    const spoofed = [
      '198.51.100.1, 203.0.113.9',
      '198.51.100.2, 203.0.113.9',
      '198.51.100.3, 203.0.113.9',
      '203.0.113.10',
    ]
    assert.deepEqual(await statuses(1, spoofed, t), [200, 200, 429, 200])
  })
})

/** A raw connection that sends `head` and then `drip` every `everyMs` until the server hangs up. */
async function trickle(port: number, head: string, drip: string, everyMs: number) {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const started = Date.now()
  socket.write(head)
  const timer = setInterval(() => socket.writable && socket.write(drip), everyMs)
  let answer = ''
  socket.on('data', (b: Buffer) => (answer += b.toString()))
  socket.on('error', () => {}) // a write after the server's reset
  await new Promise((resolve) => socket.once('close', resolve))
  clearInterval(timer)
  return { ms: Date.now() - started, answer }
}

describe('[pglite] HTTP timeouts on a listening server', () => {
  const listening = async (
    t: Parameters<typeof buildTestApp>[0],
    config: Partial<AppConfig>,
  ): Promise<TestApp & { port: number }> => {
    const app = await buildTestApp(t, 'pglite', { config })
    await app.app.listen({ port: 0, host: '127.0.0.1' })
    return { ...app, port: (app.app.server.address() as AddressInfo).port }
  }

  test("the configuration's defaults reach Node's server", async (t) => {
    const app = await listening(t, { ...loadConfig({}), logLevel: 'silent' })
    const server = app.app.server
    assert.deepEqual(
      [server.requestTimeout, server.headersTimeout, server.keepAliveTimeout, server.timeout],
      [30_000, 10_000, 72_000, 120_000],
    )
  })

  test('a body that trickles in is cut off at the request timeout; headers that trickle, at the headers timeout', async (t) => {
    const app = await listening(t, {
      httpRequestTimeoutMs: 1500,
      httpHeadersTimeoutMs: 300,
      httpKeepAliveTimeoutMs: 72_000,
      httpConnectionTimeoutMs: 120_000,
    })
    const ok = await fetch(`http://127.0.0.1:${app.port}/healthz`)
    assert.equal(ok.status, 200, 'an ordinary request is not disturbed')

    // 1,000 bytes at 10 a second would take 100 s
    const head = [
      'POST /v1/accounts HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: Bearer ${app.apiKey}`,
      'Content-Type: application/json',
      'Content-Length: 1000',
      '',
      '{"name":"',
    ].join('\r\n')
    const body = await trickle(app.port, head, 'x', 100)
    assert.match(body.answer, /^HTTP\/1\.1 408 /, body.answer)
    assert.ok(body.ms >= 1400 && body.ms < 5000, `the body was cut after ${body.ms} ms`)

    const headers = await trickle(app.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n', 50)
    assert.match(headers.answer, /^HTTP\/1\.1 408 /, headers.answer)
    assert.ok(headers.ms >= 250 && headers.ms < 1400, `the headers were cut after ${headers.ms} ms`)

    const accounts = await app.call({ method: 'GET', url: '/v1/accounts?limit=5' })
    assert.deepEqual(accounts.json().data, [], 'the cut request created nothing')
  })
})
