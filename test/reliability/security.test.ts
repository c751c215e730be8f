import assert from 'node:assert/strict'
import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import type { LightMyRequestResponse } from 'fastify'
import { sql } from 'kysely'

import { connectPglite } from '../../src/db/connect.ts'
import { newSecret } from '../../src/lib/ids.ts'
import { cli } from '../cli/cli-harness.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { killedAtEnd } from '../helpers/children.ts'
import { DATABASES, freshDatabase } from '../helpers/databases.ts'
import { makeAccount, sessionFor } from '../helpers/factories.ts'
import { startService } from '../helpers/service-process.ts'
import { suiteScope } from '../helpers/suite-scope.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'
import { startWebhookReceiver } from '../peers/webhook-receiver.ts'
import { assertNotStored, driveWithSecrets, needles, searchableLogLine } from './secrets-search.ts'

/*
 * Security checks: the security headers on every kind of response, errors included;
 * the page's cookie flags; CSRF refused (and changing nothing) on every write made with the page's
 * cookie; and no raw credential (API key, session token, page cookie, webhook secret, verification
 * token) anywhere in the database or in the logs of the real service run at LOG_LEVEL=trace.
 */

/** What helmet sets, as configured in src/app/build-app.ts: expected on every response. */
const SECURITY_HEADERS: Record<string, string | RegExp> = {
  'content-security-policy': /default-src 'self'.*frame-ancestors 'none'.*object-src 'none'.*script-src 'self'/,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
}

function assertSecured(what: string, res: LightMyRequestResponse, https = false) {
  for (const [name, expected] of Object.entries(SECURITY_HEADERS)) {
    const got = res.headers[name]
    assert.ok(typeof got === 'string', `${what} (${res.statusCode}) has ${name}`)
    if (expected instanceof RegExp) assert.match(got, expected, `${what}: ${name}`)
    else assert.equal(got, expected, `${what}: ${name}`)
  }
  assert.ok(res.headers['x-request-id'], `${what} carries its request id`)
  assert.equal(res.headers['x-powered-by'], undefined, `${what}: no x-powered-by`)
  if (https) assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/, `${what}: HSTS over https`)
  else assert.equal(res.headers['strict-transport-security'], undefined, `${what}: no HSTS on plain http`)
  if (res.statusCode >= 400 && !/text\/html/.test(String(res.headers['content-type']))) {
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/, `${what}: errors are problems`)
  }
}

/** The page's cookies after signing in with a session token. */
async function signIn(app: TestApp, token: string) {
  const res = await app.call({ method: 'POST', url: '/ui/session', token: null, payload: { token } })
  assert.equal(res.statusCode, 200, res.body)
  const c = Object.fromEntries(res.cookies.map((x) => [x.name, x]))
  return {
    res,
    session: c.ac_session!,
    csrf: c.ac_csrf!,
    cookie: `ac_session=${c.ac_session!.value}; ac_csrf=${c.ac_csrf!.value}`,
  }
}

const METRICS_TOKEN = 'metrics-scraper-token-of-32-characters-or-more'

for (const kind of DATABASES) {
  describe(`[${kind}] security checks`, () => {
    // One plain-http and one https application for the suite; each test makes its own accounts.
    const suite = suiteScope()
    let plain: TestApp
    let secure: TestApp
    before(async () => {
      plain = await buildTestApp(suite.scope, kind, { config: { metricsToken: METRICS_TOKEN } })
      secure = await buildTestApp(suite.scope, kind, { config: { publicUrl: 'https://contacts.example' } })
    })
    after(() => suite.close())

    test('security headers on every kind of response: 2xx, 3xx, every 4xx problem, 5xx, HTML pages, metrics, OpenAPI', async (t) => {
      const app = plain
      const { accountId, users } = await makeAccount(app, { extraUsers: 3 })
      const member = await sessionFor(app, accountId, users.member!)
      const acc = `/v1/accounts/${accountId}`
      const seen = new Map<string, number>()
      const check = async (what: string, req: Parameters<TestApp['call']>[0], status: number) => {
        const res = await app.call(req)
        assert.equal(res.statusCode, status, `${what}: ${res.body.slice(0, 300)}`)
        assertSecured(what, res)
        seen.set(what, status)
        return res
      }

      await check('200 JSON', { method: 'GET', url: '/v1/accounts' }, 200)
      await check('201 created', { method: 'POST', url: '/v1/accounts', payload: { name: 'Headers Oy' } }, 201)
      await check(
        '202 accepted',
        { method: 'POST', url: `${acc}/notifications`, payload: { category: 'invoice', subject: 'S', text: 'T' } },
        202,
      )
      const hook = await check(
        '201 webhook endpoint',
        { method: 'POST', url: '/v1/webhook-endpoints', payload: { url: 'http://127.0.0.1:9/hooks' } },
        201,
      )
      await check('204 no content', { method: 'DELETE', url: `/v1/webhook-endpoints/${hook.json().id}` }, 204)
      await check('302 redirect', { method: 'GET', url: '/ui', token: null }, 302)
      await check('400 validation-failed', { method: 'POST', url: '/v1/accounts', payload: { name: '' } }, 400)
      await check(
        '400 malformed JSON',
        { method: 'POST', url: '/v1/accounts', headers: { 'content-type': 'application/json' }, payload: '{"name":' },
        400,
      )
      await check('400 malformed URL', { method: 'GET', url: `${acc}/users/%E0%A4%A` }, 400)
      await check('401 unauthenticated', { method: 'GET', url: '/v1/accounts', token: null }, 401)
      await check('401 bad token', { method: 'GET', url: '/v1/accounts', token: 'acpk_not-a-key-at-all-xxxxxxxx' }, 401)
      await check(
        '403 forbidden',
        { method: 'PUT', url: `${acc}/contacts/primary`, token: member, payload: { userId: users.member } },
        403,
      )
      await check('404 unknown route', { method: 'GET', url: '/v1/nothing-here' }, 404)
      await check('404 unknown method on a known path', { method: 'PATCH', url: '/healthz' }, 404)
      await check('404 another id', { method: 'GET', url: '/v1/accounts/no-such-account/contacts' }, 404)
      for (const u of ['u1', 'u2', 'u3'])
        await app.call({ method: 'POST', url: `${acc}/contacts/billing`, payload: { userId: users[u] } })
      await check(
        '409 billing-contact-limit',
        { method: 'POST', url: `${acc}/contacts/billing`, payload: { userId: users.admin } },
        409,
      )
      await check(
        '412 version-mismatch',
        { method: 'PUT', url: `${acc}/contacts`, headers: { 'if-match': '"1"' }, payload: {} },
        412,
      )
      await check(
        '413 payload-too-large',
        {
          method: 'POST',
          url: '/v1/accounts',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ name: 'x'.repeat(1_100_000) }),
        },
        413,
      )
      await check(
        '415 unsupported-media-type',
        { method: 'POST', url: '/v1/accounts', headers: { 'content-type': 'text/plain' }, payload: 'name=x' },
        415,
      )
      await check(
        '422 user-not-in-account',
        { method: 'PUT', url: `${acc}/contacts/primary`, payload: { userId: 'nobody' } },
        422,
      )
      await check('428 precondition-required', { method: 'PUT', url: `${acc}/contacts`, payload: {} }, 428)
      await check('HTML /ui/', { method: 'GET', url: '/ui/', token: null }, 200)
      await check('HTML /ui/sign-in', { method: 'GET', url: '/ui/sign-in', token: null }, 200)
      await check(
        'HTML verify-email, bad link',
        { method: 'GET', url: '/v1/verify-email?token=acv_x.nope', token: null },
        400,
      )
      await check('400 verify-email without token', { method: 'GET', url: '/v1/verify-email', token: null }, 400)
      await check('/metrics', { method: 'GET', url: '/metrics', token: METRICS_TOKEN }, 200)
      await check('401 /metrics without METRICS_TOKEN', { method: 'GET', url: '/metrics', token: null }, 401)
      await check('/openapi.json', { method: 'GET', url: '/openapi.json', token: null }, 200)
      await check('/healthz', { method: 'GET', url: '/healthz', token: null }, 200)
      await check('/readyz', { method: 'GET', url: '/readyz', token: null }, 200)
      const asset = fs.existsSync(path.resolve('web/dist/assets'))
        ? fs.readdirSync(path.resolve('web/dist/assets'))[0]
        : undefined
      if (asset) await check('static asset', { method: 'GET', url: `/ui/assets/${asset}`, token: null }, 200)
      for (const what of ['HTML /ui/', 'HTML /ui/sign-in']) {
        const res = await app.call({ method: 'GET', url: what.slice(5), token: null })
        assert.match(String(res.headers['content-type']), /^text\/html/)
      }

      // 429: the same app with a limit of two requests a minute
      const limited = await buildTestApp(t, kind, { config: { rateLimitPerMinute: 2 } })
      for (let i = 0; i < 2; i++)
        assert.equal((await limited.call({ method: 'GET', url: '/v1/accounts' })).statusCode, 200)
      const tooMany = await limited.call({ method: 'GET', url: '/v1/accounts' })
      assert.equal(tooMany.statusCode, 429)
      assert.ok(tooMany.headers['retry-after'], '429 says when to retry')
      assertSecured('429 rate-limited', tooMany)
      seen.set('429 rate-limited', 429)

      // 5xx: a table gone from under the app; the problem says nothing of the cause
      const broken = await buildTestApp(t, kind)
      await sql`drop table accounts cascade`.execute(broken.services.db)
      const failed = await broken.call({ method: 'GET', url: '/v1/accounts' })
      assert.equal(failed.statusCode, 500)
      assertSecured('500 internal', failed)
      assert.doesNotMatch(failed.body, /relation|accounts|exist|select|stack|at /i, 'a 5xx shows no internal message')
      assert.match(failed.json().detail, new RegExp(failed.json().requestId))
      seen.set('500 internal', 500)

      // over https: the same headers and HSTS
      assertSecured('https 200', await secure.call({ method: 'GET', url: '/v1/accounts' }), true)
      assertSecured('https 404', await secure.call({ method: 'GET', url: '/nothing' }), true)
      assertSecured('https HTML', await secure.call({ method: 'GET', url: '/ui/', token: null }), true)
      t.diagnostic(
        `security headers: ${seen.size + 3} kinds of response checked (${[...new Set(seen.values())].sort().join(', ')}, https)`,
      )
    })

    test("the page's cookies: HttpOnly session, SameSite=Strict, Path=/, expiring with the session; Secure over https", async () => {
      for (const app of [plain, secure]) {
        const { accountId, users } = await makeAccount(app)
        const { res, session, csrf } = await signIn(app, await sessionFor(app, accountId, users.admin!))
        const https = app === secure
        const raw = ([] as string[]).concat(res.headers['set-cookie'] as string | string[])
        const rawSession = raw.find((c) => c.startsWith('ac_session='))!
        const rawCsrf = raw.find((c) => c.startsWith('ac_csrf='))!
        assert.match(rawSession, /; HttpOnly/i)
        assert.doesNotMatch(rawCsrf, /HttpOnly/i, 'the CSRF cookie is readable by the page, which echoes it')
        for (const [name, c, r] of [
          ['ac_session', session, rawSession],
          ['ac_csrf', csrf, rawCsrf],
        ] as const) {
          assert.equal(c.sameSite, 'Strict', `${name} SameSite`)
          assert.equal(c.path, '/', `${name} Path`)
          assert.ok(c.expires instanceof Date && c.expires.getTime() > Date.now(), `${name} expires with the session`)
          assert.ok(c.expires!.getTime() <= Date.now() + 8 * 3600_000 + 5_000, `${name} not longer than the session`)
          assert.equal(c.secure === true, https, `${name} Secure exactly over https`)
          assert.equal(/; Secure/i.test(r), https)
          assert.equal(c.domain, undefined, `${name} is host-only`)
        }
        assert.ok(csrf.value.length >= 32 && csrf.value !== session.value)
      }
    })

    test('CSRF: a write with the page cookie but without the matching X-CSRF-Token is refused and changes nothing', async (t) => {
      const app = plain
      const { accountId, users } = await makeAccount(app, { extraUsers: 2 })
      const page = await signIn(app, await sessionFor(app, accountId, users.admin!))
      const other = await signIn(app, await sessionFor(app, accountId, users.billing!))
      const acc = `/v1/accounts/${accountId}`
      const state = async () => {
        const sheet = (await app.call({ method: 'GET', url: `${acc}/contacts` })).json()
        const audit = (await app.call({ method: 'GET', url: `${acc}/audit-events?limit=200` })).json().data.length
        const notifications = (await app.call({ method: 'GET', url: `${acc}/notifications?limit=100` })).json().data
          .length
        return { version: sheet.version, sheet, audit, notifications }
      }
      const writes = [
        { method: 'PUT' as const, url: `${acc}/contacts/primary`, payload: { userId: users.u1 } },
        { method: 'POST' as const, url: `${acc}/contacts/billing`, payload: { userId: users.u2 } },
        { method: 'DELETE' as const, url: `${acc}/contacts/onboarding` },
        { method: 'POST' as const, url: `${acc}/contacts/review` },
        { method: 'POST' as const, url: `${acc}/notifications/test`, payload: { category: 'invoice' } },
      ]
      const forged: [string, Record<string, string>][] = [
        ['no header', { cookie: page.cookie }],
        ['a wrong header', { cookie: page.cookie, 'x-csrf-token': newSecret(24) }],
        ["another session's token", { cookie: page.cookie, 'x-csrf-token': other.csrf.value }],
        [
          'the header without its cookie',
          { cookie: `ac_session=${page.session.value}`, 'x-csrf-token': page.csrf.value },
        ],
        ['an empty header and cookie', { cookie: `ac_session=${page.session.value}; ac_csrf=`, 'x-csrf-token': '' }],
      ]
      const before = await state()
      let refused = 0
      for (const w of writes) {
        for (const [why, headers] of forged) {
          const res = await app.call({ ...w, token: null, headers })
          assert.equal(res.statusCode, 403, `${w.method} ${w.url} with ${why}: ${res.body}`)
          assert.equal(res.json().type, '/problems/forbidden')
          refused++
        }
      }
      assert.deepEqual(await state(), before, 'nothing changed: sheet, audit log, notifications')

      // the same writes with the page's token succeed; a bearer token needs none (not sent by browsers on their own)
      for (const w of writes) {
        const res = await app.call({
          ...w,
          token: null,
          headers: { cookie: page.cookie, 'x-csrf-token': page.csrf.value },
        })
        assert.ok(res.statusCode < 300, `${w.method} ${w.url} with the token: ${res.statusCode} ${res.body}`)
      }
      const after = await state()
      assert.equal(after.sheet.primary.userId, users.u1)
      assert.equal(after.notifications, before.notifications + 1)
      const bearer = await app.call({
        method: 'DELETE',
        url: `${acc}/contacts/primary`,
        token: await sessionFor(app, accountId, users.admin!),
      })
      assert.equal(bearer.statusCode, 200)
      // reads need no token
      assert.equal(
        (await app.call({ method: 'GET', url: `${acc}/contacts`, token: null, headers: { cookie: page.cookie } }))
          .statusCode,
        200,
      )
      t.diagnostic(
        `csrf: ${refused} forged cookie writes refused (${writes.length} routes × ${forged.length} forgeries), nothing changed; ${writes.length} with the token succeeded`,
      )
    })

    test('no raw API key, session token, page cookie, webhook secret or verification token in any row of the database', async (t) => {
      const app = await buildTestApp(t, kind)
      await app.app.listen({ port: 0, host: '127.0.0.1' })
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const receiver = await startWebhookReceiver()
      t.after(() => receiver.close())
      const { worker } = testWorker(t, app, { smtpUrl: sink.url })
      worker.start()
      t.after(() => worker.stop())
      const { port } = app.app.server.address() as AddressInfo
      const secrets = await driveWithSecrets(
        `http://127.0.0.1:${port}`,
        { platformKey: app.apiKey, otherKey: (await app.services.apiKeys.create('other')).key },
        sink,
        receiver,
      )
      await worker.stop()
      await assertNotStored(t, app.handle.db, secrets)
    })

    const logsSkip =
      kind === DATABASES[DATABASES.length - 1]
        ? false
        : 'the logs do not depend on the database: checked once, on the last one'
    test(
      'no raw credential in the logs of the real service at LOG_LEVEL=trace, nor in its database',
      { timeout: 120_000, skip: logsSkip },
      async (t) => {
        const children = killedAtEnd(t)
        const sink = await startSmtpSink()
        t.after(() => sink.close())
        const receiver = await startWebhookReceiver()
        t.after(() => receiver.close())
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-secrets-'))
        t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }))
        const handle = kind === 'postgres' ? await freshDatabase('postgres') : undefined
        if (handle) t.after(() => handle.close())
        // on PostgreSQL every process, the CLI included, needs the one SECRET_KEY
        const secretKey = `master-${newSecret(24)}`
        const dbEnv: Record<string, string> = handle ? { DATABASE_URL: handle.url!, SECRET_KEY: secretKey } : {}

        // a platform key made with the CLI, as an operator would, and one given as BOOTSTRAP_API_KEY
        const made = await cli(['keys', 'create', '--name', 'security-test'], {
          ...dbEnv,
          DATA_DIR: dataDir,
          LOG_LEVEL: 'silent',
        })
        assert.equal(made.code, 0, made.stderr)
        const cliKey = made.stdout.trim().split('\n').at(-1)!
        const bootstrapKey = `boot-${newSecret(24)}`
        const service = await startService(children, {
          ...dbEnv,
          DATA_DIR: dataDir,
          SMTP_URL: sink.url,
          WEBHOOK_ALLOW_PRIVATE: 'true',
          BOOTSTRAP_API_KEY: bootstrapKey,
          SECRET_KEY: secretKey,
          RATE_LIMIT_PER_MINUTE: '0',
          LOG_LEVEL: 'trace',
        })
        const secrets = await driveWithSecrets(
          service.url,
          { platformKey: cliKey, otherKey: bootstrapKey },
          sink,
          receiver,
        )
        assert.equal(await service.stop(), 0)
        const logs = service.output()
        const lines = logs.split('\n').map(searchableLogLine)
        assert.ok(lines.filter((l) => l.includes('"reqId"')).length > 40, 'the service logged the requests')
        for (const [name, secret] of Object.entries(secrets)) {
          for (const n of needles(secret)) {
            const line = lines.find((l) => l.includes(n))
            assert.equal(line, undefined, `the ${name} appears in the logs: ${line?.slice(0, 400)}`)
          }
        }
        t.diagnostic(
          `secrets: ${Object.keys(secrets).length} kinds of credential searched in ${lines.length} log lines (LOG_LEVEL=trace): none found`,
        )
        const db = handle?.db ?? (await connectPglite(dataDir, { purpose: 'security test' })).db
        if (!handle) t.after(() => db.destroy())
        await assertNotStored(t, db, secrets)
      },
    )
  })
}
