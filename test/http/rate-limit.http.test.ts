import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test, type TestContext } from 'node:test'

import type { LightMyRequestResponse } from 'fastify'

import { addressKey } from '../../src/app/rate-limit.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, sessionFor } from '../helpers/factories.ts'

// The rate limit (review M1): a request is charged to its credential only once the credential has
// proved good, else to the client's address; failed authentications have a smaller budget per
// address, after which that address's tokens are no longer looked up.

const PER_MINUTE = 8
const FAILURES_PER_MINUTE = 3
const GUESSER = '203.0.113.7'
const NEIGHBOUR = '203.0.113.8'

const junk = () => `Bearer acpk_${randomBytes(24).toString('base64url')}`

function assertRateLimited(res: LightMyRequestResponse) {
  assert.equal(res.statusCode, 429, res.body)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  assert.equal(res.json().code, 'rate-limited')
  assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/, 'a 429 says when to retry')
}

const METRICS_TOKEN = 'metrics-token-for-the-rate-limit-test'

/** An app with small budgets whose API-key lookups are counted. */
async function limitedApp(t: Pick<TestContext, 'after'>, kind: (typeof DATABASES)[number]) {
  const app = await buildTestApp(t, kind, {
    config: {
      rateLimitPerMinute: PER_MINUTE,
      rateLimitAuthFailuresPerMinute: FAILURES_PER_MINUTE,
      metricsToken: METRICS_TOKEN,
    },
  })
  const lookups = { count: 0 }
  const authenticate = app.services.apiKeys.authenticate.bind(app.services.apiKeys)
  app.services.apiKeys.authenticate = (key) => {
    lookups.count++
    return authenticate(key)
  }
  return { ...app, lookups }
}

const from = (app: TestApp, remoteAddress: string, authorization: string | undefined, url = '/v1/accounts') =>
  app.app.inject({ method: 'GET', url, remoteAddress, headers: authorization === undefined ? {} : { authorization } })

test('addressKey: an IPv4 address as it is, IPv4-mapped IPv6 as its IPv4 address, other IPv6 by its /64', () => {
  assert.equal(addressKey('203.0.113.7'), '203.0.113.7')
  assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7')
  assert.equal(addressKey('::ffff:cb00:7107'), '203.0.113.7', 'the hexadecimal form of the same mapped address')
  assert.equal(addressKey('2001:db8:1:2::a'), '2001:db8:1:2::/64')
  assert.equal(addressKey('2001:0DB8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64', 'written out in full and in capitals')
  assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64')
  assert.equal(addressKey('2001:db8:0:0:1::'), '2001:db8:0:0::/64')
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64', 'without the zone')
  assert.equal(addressKey('::1'), '0:0:0:0::/64')
  assert.equal(addressKey('::'), '0:0:0:0::/64')
  assert.notEqual(addressKey('2001:db8:1:2::a'), addressKey('2001:db8:1:3::a'))
  assert.equal(addressKey('64:ff9b::203.0.113.7'), '64:ff9b:0:0::/64', 'NAT64 is an IPv6 prefix like any other')
})

for (const kind of DATABASES) {
  describe(`[${kind}] rate limit by address until a credential proves good`, () => {
    test('made-up Authorization headers from one address: 401 until the failure budget is spent, then 429 without a lookup', async (t) => {
      const app = await limitedApp(t, kind)
      const statuses: number[] = []
      // bearer tokens, other schemes and a malformed header: each is a new value
      const headers = [
        junk(),
        `Basic ${randomBytes(12).toString('base64')}`,
        junk(),
        'Bearer',
        junk(),
        junk(),
        junk(),
        junk(),
        junk(),
        junk(),
      ]
      for (const h of headers) {
        const res = await from(app, GUESSER, h)
        statuses.push(res.statusCode)
        if (res.statusCode === 429) assertRateLimited(res)
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429, 429, 429, 429, 429])
      assert.equal(
        app.lookups.count,
        2,
        'only the first budget of guessed keys reached the database (the Basic and the empty header need no lookup)',
      )
    })

    test("a valid key is not starved by another client's junk, neither at another address nor at the same one", async (t) => {
      const app = await limitedApp(t, kind)
      const key = `Bearer ${app.apiKey}`
      assert.equal((await from(app, GUESSER, key)).statusCode, 200, 'the key is used from the address before the junk')
      for (let i = 0; i < 12; i++) await from(app, GUESSER, junk())
      assertRateLimited(await from(app, GUESSER, junk()))
      // the key's own budget is untouched by the junk: PER_MINUTE - 1 more from the same address
      for (let i = 1; i < PER_MINUTE; i++)
        assert.equal((await from(app, GUESSER, key)).statusCode, 200, `request ${i + 1} with the key`)
      assertRateLimited(await from(app, GUESSER, key))
      // another address is neither failing nor charged for it
      assert.equal((await from(app, NEIGHBOUR, undefined, '/v1/categories')).statusCode, 200)
      const other = await app.services.apiKeys.create('other')
      assert.equal((await from(app, NEIGHBOUR, `Bearer ${other.key}`)).statusCode, 200)
    })

    test('requests without a credential are charged to the address, on authenticated, public and unknown routes', async (t) => {
      const app = await limitedApp(t, kind)
      const urls = ['/v1/accounts', '/v1/categories', '/no-such-route']
      const statuses: number[] = []
      for (let i = 0; i < PER_MINUTE + 3; i++)
        statuses.push((await from(app, GUESSER, undefined, urls[i % urls.length])).statusCode)
      assert.deepEqual(statuses.slice(PER_MINUTE), [429, 429, 429], statuses.join(' '))
      assert.ok(!statuses.slice(0, PER_MINUTE).includes(429), statuses.join(' '))
      assert.equal(app.lookups.count, 0)
      // 401s without a credential are not failed authentications: another address is unaffected, and
      // this one's failure budget is intact once its minute is over (not waited for here)
      assert.equal((await from(app, NEIGHBOUR, undefined)).statusCode, 401)
    })

    test('the token endpoints: refused sign-in links and verification links spend the failure budget, then 429', async (t) => {
      const app = await limitedApp(t, kind)
      const signIn = () =>
        app.app.inject({
          method: 'POST',
          url: '/ui/session',
          remoteAddress: GUESSER,
          payload: { token: `acs_${randomBytes(24).toString('base64url')}` },
        })
      const verify = () =>
        app.app.inject({
          method: 'GET',
          url: `/v1/verify-email?token=acv_x.ver_${randomBytes(12).toString('hex')}.sig`,
          remoteAddress: NEIGHBOUR,
        })
      const signIns = [] as number[]
      for (let i = 0; i < FAILURES_PER_MINUTE + 2; i++) signIns.push((await signIn()).statusCode)
      assert.deepEqual(signIns, [401, 401, 401, 429, 429])
      assertRateLimited(await signIn())
      const verifications = [] as number[]
      for (let i = 0; i < FAILURES_PER_MINUTE + 2; i++) verifications.push((await verify()).statusCode)
      assert.deepEqual(verifications, [400, 400, 400, 429, 429])
      assertRateLimited(await verify())
      // the link page's confirmation, which takes the token in its body, from a third address
      const confirm = () =>
        app.app.inject({
          method: 'POST',
          url: '/v1/verify-email',
          remoteAddress: '203.0.113.9',
          payload: { token: `acv_x.ver_${randomBytes(12).toString('hex')}.sig` },
        })
      const confirmations = [] as number[]
      for (let i = 0; i < FAILURES_PER_MINUTE + 1; i++) confirmations.push((await confirm()).statusCode)
      assert.deepEqual(confirmations, [400, 400, 400, 429])
    })

    test('a session made before the attack keeps working from the failing address; a guessed session does not get looked up', async (t) => {
      const app = await limitedApp(t, kind)
      const account = await makeAccount(app)
      const session = await sessionFor(app, account.accountId, account.users.admin!)
      const own = () => from(app, GUESSER, `Bearer ${session}`, `/v1/accounts/${account.accountId}/contacts`)
      // the session's first use spent a unit of the budget (it had not proved good yet); later ones do not
      assert.equal((await own()).statusCode, 200)
      assert.equal((await own()).statusCode, 200)
      for (let i = 1; i < FAILURES_PER_MINUTE; i++)
        assert.equal((await from(app, GUESSER, `Bearer acs_${randomBytes(24).toString('base64url')}`)).statusCode, 401)
      assertRateLimited(await from(app, GUESSER, `Bearer acs_${randomBytes(24).toString('base64url')}`))
      assert.equal((await own()).statusCode, 200)
    })

    test('parallel guesses: of many made-up keys sent at once, at most the failure budget reach the lookup', async (t) => {
      const app = await limitedApp(t, kind)
      const answers = await Promise.all(Array.from({ length: 40 }, () => from(app, GUESSER, junk())))
      const statuses = answers.map((r) => r.statusCode)
      assert.equal(statuses.filter((s) => s === 401).length, FAILURES_PER_MINUTE, statuses.join(' '))
      assert.equal(statuses.filter((s) => s === 429).length, 40 - FAILURES_PER_MINUTE, statuses.join(' '))
      assert.ok(app.lookups.count <= FAILURES_PER_MINUTE, `${app.lookups.count} lookups`)
      // the sign-in link's exchange too, from another address
      const signIns = await Promise.all(
        Array.from({ length: 20 }, () =>
          app.app.inject({
            method: 'POST',
            url: '/ui/session',
            remoteAddress: NEIGHBOUR,
            payload: { token: `acs_${randomBytes(24).toString('base64url')}` },
          }),
        ),
      )
      assert.equal(
        signIns.filter((r) => r.statusCode === 401).length,
        FAILURES_PER_MINUTE,
        signIns.map((r) => r.statusCode).join(' '),
      )
    })

    test('HEAD on a token route (the auto HEAD of GET /v1/verify-email) spends the failure budget like GET', async (t) => {
      const app = await limitedApp(t, kind)
      const head = () =>
        app.app.inject({
          method: 'HEAD',
          url: `/v1/verify-email?token=acv_x.ver_${randomBytes(12).toString('hex')}.sig`,
          remoteAddress: GUESSER,
        })
      const statuses = [] as number[]
      for (let i = 0; i < FAILURES_PER_MINUTE + 2; i++) statuses.push((await head()).statusCode)
      assert.deepEqual(statuses, [400, 400, 400, 429, 429])
      const get = await app.app.inject({
        method: 'GET',
        url: `/v1/verify-email?token=acv_x.ver_${randomBytes(12).toString('hex')}.sig`,
        remoteAddress: GUESSER,
      })
      assertRateLimited(get)
      assert.equal(
        get.headers['x-ratelimit-limit'],
        undefined,
        'refused before it is charged: Retry-After only (PRODUCT.md)',
      )
    })

    test('/metrics: wrong tokens spend the budget (HEAD too); the right one spends it once, then scrapes are free', async (t) => {
      const app = await limitedApp(t, kind)
      const scrape = (method: 'GET' | 'HEAD', token: string, remoteAddress: string) =>
        app.app.inject({ method, url: '/metrics', remoteAddress, headers: { authorization: `Bearer ${token}` } })
      for (let i = 0; i < FAILURES_PER_MINUTE; i++)
        assert.equal((await scrape('HEAD', `wrong-${i}`, GUESSER)).statusCode, 401)
      assertRateLimited(await scrape('GET', 'wrong-again', GUESSER))
      for (let i = 0; i < FAILURES_PER_MINUTE + 2; i++)
        assert.equal((await scrape('GET', METRICS_TOKEN, NEIGHBOUR)).statusCode, 200, `scrape ${i + 1}`)
      for (let i = 1; i < FAILURES_PER_MINUTE; i++)
        assert.equal((await scrape('GET', `wrong-${i}`, NEIGHBOUR)).statusCode, 401)
      assertRateLimited(await scrape('GET', 'wrong-again', NEIGHBOUR))
    })

    test('IPv6: the addresses of one /64 share one failure budget; an IPv4-mapped address is its IPv4 address', async (t) => {
      const app = await limitedApp(t, kind)
      for (let i = 0; i < FAILURES_PER_MINUTE; i++)
        assert.equal((await from(app, `2001:db8:1:2::${i + 1}`, junk())).statusCode, 401)
      assertRateLimited(await from(app, '2001:db8:1:2:ffff:1:2:3', junk()))
      assert.equal((await from(app, '2001:db8:1:3::1', junk())).statusCode, 401, 'the next /64 has a budget of its own')
      for (let i = 0; i < FAILURES_PER_MINUTE; i++) assert.equal((await from(app, GUESSER, junk())).statusCode, 401)
      assertRateLimited(await from(app, `::ffff:${GUESSER}`, junk()))
    })

    test('a flood from thousands of addresses does not evict a spent failure budget', async (t) => {
      const app = await limitedApp(t, kind)
      for (let i = 0; i < FAILURES_PER_MINUTE; i++) await from(app, GUESSER, junk())
      assertRateLimited(await from(app, GUESSER, junk()))
      // a Basic header presents a credential (it spends the budget) without a lookup
      for (let i = 0; i < 6_000; i++)
        await from(app, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'Basic eDp5')
      assertRateLimited(await from(app, GUESSER, junk()))
    })
  })
}
