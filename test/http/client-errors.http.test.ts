import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { describe, test, type TestContext } from 'node:test'

import type { AppConfig } from '../../src/app/build-app.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'

// What a listening server answers to requests no route sees (review M9 and L5): a body or headers
// that trickle in past their bound, a request Node's parser refuses. Each answer is an RFC 9457
// problem with a request id, and the connection is closed.

/** Bounds short enough for a test: the body has REQUEST_MS, the headers HEADERS_MS. */
const REQUEST_MS = 1500
const HEADERS_MS = 300

async function listening(
  t: Pick<TestContext, 'after'>,
  config: Partial<AppConfig> = {},
): Promise<TestApp & { port: number }> {
  const app = await buildTestApp(t, 'pglite', {
    config: {
      httpRequestTimeoutMs: REQUEST_MS,
      httpHeadersTimeoutMs: HEADERS_MS,
      httpKeepAliveTimeoutMs: 5000,
      httpConnectionTimeoutMs: 60_000,
      ...config,
    },
  })
  await app.app.listen({ port: 0, host: '127.0.0.1' })
  return { ...app, port: (app.app.server.address() as AddressInfo).port }
}

/**
 * A raw connection: sends `head`, then `drip` every `everyMs` (if given) until the server hangs up
 * or `giveUpMs` passes. Returns what came back and how long the server took to close.
 */
async function exchange(port: number, head: string, opts: { drip?: string; everyMs?: number; giveUpMs?: number } = {}) {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const started = Date.now()
  socket.write(head)
  const timer = opts.drip
    ? setInterval(() => socket.writable && socket.write(opts.drip!), opts.everyMs ?? 100)
    : undefined
  const giveUp = setTimeout(() => socket.destroy(), opts.giveUpMs ?? 10_000)
  let answer = ''
  socket.on('data', (b: Buffer) => (answer += b.toString()))
  socket.on('error', () => {}) // a write after the server's reset
  await new Promise((resolve) => socket.once('close', resolve))
  clearInterval(timer)
  clearTimeout(giveUp)
  return { ms: Date.now() - started, answer }
}

/** The last response in a raw answer, as status, headers and the parsed problem. */
function lastProblem(answer: string) {
  const at = answer.lastIndexOf('HTTP/1.1 ')
  assert.ok(at >= 0, `no response in ${JSON.stringify(answer)}`)
  const [head, body = ''] = answer.slice(at).split('\r\n\r\n')
  const [statusLine, ...lines] = head!.split('\r\n')
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  )
  assert.match(String(headers['content-type']), /^application\/problem\+json/, `not a problem: ${answer}`)
  const problem = JSON.parse(body) as { status: number; code: string; detail: string; requestId: string }
  assert.equal(problem.status, Number(statusLine!.split(' ')[1]))
  assert.equal(problem.requestId, headers['x-request-id'], 'the request id is in the header and the problem')
  return { status: problem.status, headers, problem }
}

describe('[pglite] answers to requests that no route sees', () => {
  test('a body that trickles in is cut at the request timeout with a 408 problem, and creates nothing', async (t) => {
    const app = await listening(t)
    // 1,000 bytes at 10 a second would take 100 s
    const head = [
      'POST /v1/accounts HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: Bearer ${app.apiKey}`,
      'Content-Type: application/json',
      'Content-Length: 1000',
      '',
      '{"id":"slow","name":"',
    ].join('\r\n')
    const slow = await exchange(app.port, head, { drip: 'x', everyMs: 100 })
    assert.ok(slow.ms >= REQUEST_MS - 100 && slow.ms < REQUEST_MS + 2500, `the body was cut after ${slow.ms} ms`)
    const { problem } = lastProblem(slow.answer)
    assert.equal(problem.code, 'request-timeout')
    assert.equal(problem.status, 408)
    assert.equal(
      (await app.call({ method: 'GET', url: '/v1/accounts/slow' })).statusCode,
      404,
      'the cut request created nothing',
    )
  })

  test('headers that trickle in are cut at the headers timeout with a 408 problem', async (t) => {
    const app = await listening(t)
    const slow = await exchange(app.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', {
      drip: 'X-Slow: 1\r\n',
      everyMs: 50,
    })
    assert.ok(slow.ms >= HEADERS_MS - 50 && slow.ms < REQUEST_MS, `the headers were cut after ${slow.ms} ms`)
    assert.equal(lastProblem(slow.answer).problem.code, 'request-timeout')
  })

  test('a short Content-Length: the bytes after the body are refused as a malformed request, with a 400 problem', async (t) => {
    const app = await listening(t)
    const body = '{"id":"short","name":"Short"}'
    const head = [
      'POST /v1/accounts HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: Bearer ${app.apiKey}`,
      'Content-Type: application/json',
      'Content-Length: 2',
      '',
      body,
    ].join('\r\n')
    const res = await exchange(app.port, head)
    // Node refuses the stray bytes before the first request's answer is out, and closes: one answer
    const answers = res.answer.match(/^HTTP\/1\.1 \d{3}/gm) ?? []
    assert.equal(answers.length, 1, res.answer)
    const { problem } = lastProblem(res.answer)
    assert.deepEqual([problem.status, problem.code], [400, 'validation-failed'])
  })

  test('a malformed header line is a 400 problem; too many headers or one too large (over 16 KiB together) a 431 problem', async (t) => {
    const app = await listening(t)
    const broken = await exchange(app.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n')
    assert.deepEqual(
      [lastProblem(broken.answer).status, lastProblem(broken.answer).problem.code],
      [400, 'validation-failed'],
    )

    // 3,000 short headers are over 16 KiB too (2,000 of them fit, and Node keeps the first 2,000 of any number)
    const many = Array.from({ length: 3000 }, (_, i) => `x${i}: ${i}`).join('\r\n')
    const tooMany = await exchange(app.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n${many}\r\n\r\n`)
    assert.deepEqual(
      [lastProblem(tooMany.answer).status, lastProblem(tooMany.answer).problem.code],
      [431, 'headers-too-large'],
    )

    const big = await exchange(
      app.port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    const { status, problem } = lastProblem(big.answer)
    assert.deepEqual([status, problem.code], [431, 'headers-too-large'])
  })
})
