import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'

import { ConfigError, loadConfig } from '../../src/config/config.ts'
import { cli, tempDir } from '../cli/cli-harness.ts'

// Configuration rules that span variables, and the parsing of the ones that are more than a number.

const KEY = 'k'.repeat(40)
// nothing listens on port 1: a command that tried to connect would fail with another message
const PG = 'postgres://postgres@127.0.0.1:1/nowhere'

const refusal = (env: Record<string, string>) => {
  try {
    loadConfig(env)
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e))
    return e.message
  }
  assert.fail(`accepted ${JSON.stringify(env)}`)
}

describe('SECRET_KEY with DATABASE_URL', () => {
  test('PostgreSQL without SECRET_KEY is refused, with why and how to make one', () => {
    const message = refusal({ DATABASE_URL: PG })
    assert.match(message, /^SECRET_KEY is required with DATABASE_URL/)
    assert.match(message, /same key/)
    assert.match(message, /openssl rand -base64 32/)
    assert.equal(loadConfig({ DATABASE_URL: PG, SECRET_KEY: KEY }).secretKey, KEY)
  })

  test('serve, worker and the commands that derive secrets stop before opening the database', async (t) => {
    const dir = tempDir(t)
    for (const argv of [
      ['serve'],
      ['worker'],
      ['demo'],
      ['import', 'x.csv'],
      ['notify', '--account', 'a', '--category', 'invoice', '--subject', 's', '--text', 't'],
    ]) {
      const res = await cli(argv, { DATABASE_URL: PG, DATA_DIR: dir })
      assert.equal(res.code, 1, `${argv[0]}: ${res.stderr}`)
      assert.match(res.stderr, /^SECRET_KEY is required with DATABASE_URL/, argv[0])
    }
    assert.ok(!fs.existsSync(path.join(dir, 'secret-key')), 'no process-local key was made')
  })

  test('[pglite] the embedded database still needs no SECRET_KEY: a key is made in DATA_DIR', async (t) => {
    const dir = tempDir(t)
    assert.equal(loadConfig({ DATA_DIR: dir }).secretKey, undefined)
    const res = await cli(['demo'], { DATA_DIR: dir, LOG_LEVEL: 'silent' })
    assert.equal(res.code, 0, res.stderr)
    assert.match(fs.readFileSync(path.join(dir, 'secret-key'), 'utf8'), /^[A-Za-z0-9_-]{43}\n$/)
  })
})

describe('TRUST_PROXY', () => {
  const parsed = (v: string) => loadConfig({ TRUST_PROXY: v }).trustProxy

  test('false by default; true, a hop count, or a list of addresses, ranges and names', () => {
    assert.equal(loadConfig({}).trustProxy, false)
    assert.equal(parsed('false'), false)
    assert.equal(parsed('true'), true)
    assert.equal(parsed('2'), 2)
    assert.equal(parsed('0'), false)
    assert.deepEqual(parsed('10.0.0.0/8, 127.0.0.1,::1,fd00::/8'), ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8'])
    assert.deepEqual(parsed('loopback,uniquelocal'), ['loopback', 'uniquelocal'])
  })

  test('anything else is refused by name', () => {
    for (const bad of ['yes', 'proxy.internal', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', '127.0.0.1,', '100']) {
      assert.match(
        refusal({ TRUST_PROXY: bad }),
        /^TRUST_PROXY is not valid: expected false, true, a number of proxies/,
        bad,
      )
    }
  })
})

describe('HTTP timeouts, metrics, management port, log format', () => {
  test('defaults', () => {
    const c = loadConfig({})
    assert.deepEqual(
      [c.httpRequestTimeoutMs, c.httpHeadersTimeoutMs, c.httpKeepAliveTimeoutMs, c.httpConnectionTimeoutMs],
      [30_000, 10_000, 72_000, 120_000],
    )
    assert.equal(c.metricsToken, undefined)
    assert.equal(c.managementPort, undefined)
    assert.equal(c.logFormat, 'auto')
  })

  test('0 turns the request, headers and connection bounds off; headers may not outlast the request', () => {
    const c = loadConfig({
      HTTP_REQUEST_TIMEOUT_MS: '0',
      HTTP_HEADERS_TIMEOUT_MS: '0',
      HTTP_CONNECTION_TIMEOUT_MS: '0',
    })
    assert.deepEqual([c.httpRequestTimeoutMs, c.httpHeadersTimeoutMs, c.httpConnectionTimeoutMs], [0, 0, 0])
    assert.equal(
      loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '0', HTTP_HEADERS_TIMEOUT_MS: '5000' }).httpHeadersTimeoutMs,
      5000,
    )
    assert.match(
      refusal({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' }),
      /^HTTP_HEADERS_TIMEOUT_MS is not valid: .*at most HTTP_REQUEST_TIMEOUT_MS/,
    )
    assert.match(refusal({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '0' }), /^HTTP_KEEP_ALIVE_TIMEOUT_MS is not valid/)
    assert.match(refusal({ HTTP_REQUEST_TIMEOUT_MS: '30s' }), /^HTTP_REQUEST_TIMEOUT_MS is not valid/)
  })

  test('METRICS_TOKEN, MANAGEMENT_PORT and LOG_FORMAT are checked', () => {
    const token = 'A'.repeat(20) + '+/=-._~' + 'z'.repeat(5)
    assert.equal(loadConfig({ METRICS_TOKEN: token }).metricsToken, token)
    assert.match(refusal({ METRICS_TOKEN: 'short' }), /^METRICS_TOKEN is not valid: expected at least 32 characters/)
    assert.match(refusal({ METRICS_TOKEN: `${'a'.repeat(32)} b` }), /^METRICS_TOKEN is not valid/)
    assert.equal(loadConfig({ MANAGEMENT_PORT: '9464' }).managementPort, 9464)
    assert.match(refusal({ MANAGEMENT_PORT: '70000' }), /^MANAGEMENT_PORT is not valid: expected a port number/)
    assert.equal(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat, 'pretty')
    assert.match(refusal({ LOG_FORMAT: 'text' }), /^LOG_FORMAT is not valid: expected auto, json or pretty/)
  })
})
