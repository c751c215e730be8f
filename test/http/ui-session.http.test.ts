import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'

import { embeddingConfig } from '../../src/config/embedding-config.ts'
import { createEmlTransport } from '../../src/delivery/transports/eml.transport.ts'
import { ACCOUNT_HEADER } from '../../src/delivery/transports/transport.ts'
import { WEB_DIST } from '../../src/ui/ui.routes.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { makeAccount, sessionFor } from '../helpers/factories.ts'

/** The cookies a response sets, by name, with their attributes. */
function cookiesOf(res: {
  cookies: { name: string; value: string; httpOnly?: boolean; sameSite?: string; path?: string }[]
}) {
  return Object.fromEntries(res.cookies.map((c) => [c.name, c]))
}

describe('[pglite] the settings page session', () => {
  test('a sign-in token becomes an httpOnly, SameSite=Strict cookie session; writes need the CSRF header', async (t) => {
    const app = await buildTestApp(t, 'pglite')
    const { accountId, users } = await makeAccount(app)
    const token = await sessionFor(app, accountId, users.admin!)

    const bad = await app.call({
      method: 'POST',
      url: '/ui/session',
      token: null,
      payload: { token: 'acs_nope.nothing-here-at-all' },
    })
    assert.equal(bad.statusCode, 401)

    const signIn = await app.call({ method: 'POST', url: '/ui/session', token: null, payload: { token } })
    assert.equal(signIn.statusCode, 200, signIn.body)
    const c = cookiesOf(signIn)
    assert.equal(c.ac_session?.httpOnly, true)
    assert.equal(c.ac_session?.sameSite, 'Strict')
    assert.equal(c.ac_csrf?.httpOnly, undefined)
    const cookie = `ac_session=${c.ac_session!.value}; ac_csrf=${c.ac_csrf!.value}`

    const me = await app.call({ method: 'GET', url: '/ui/session', token: null, headers: { cookie } })
    assert.equal(me.statusCode, 200)
    assert.equal(me.json().userId, users.admin)
    assert.equal(me.json().role, 'super_admin')

    const read = await app.call({
      method: 'GET',
      url: `/v1/accounts/${accountId}/contacts`,
      token: null,
      headers: { cookie },
    })
    assert.equal(read.statusCode, 200)

    const put = {
      method: 'PUT' as const,
      url: `/v1/accounts/${accountId}/contacts/primary`,
      token: null,
      payload: { userId: users.member },
    }
    const noCsrf = await app.call({ ...put, headers: { cookie } })
    assert.equal(noCsrf.statusCode, 403)
    assert.equal(noCsrf.json().type, '/problems/forbidden')
    const wrongCsrf = await app.call({ ...put, headers: { cookie, 'x-csrf-token': 'x'.repeat(32) } })
    assert.equal(wrongCsrf.statusCode, 403)
    const ok = await app.call({ ...put, headers: { cookie, 'x-csrf-token': c.ac_csrf!.value } })
    assert.equal(ok.statusCode, 200, ok.body)
    assert.equal(ok.json().primary.userId, users.member)

    // an API key in a cookie is not a session
    const keyCookie = await app.call({
      method: 'GET',
      url: `/v1/accounts/${accountId}/contacts`,
      token: null,
      headers: { cookie: `ac_session=${app.apiKey}` },
    })
    assert.equal(keyCookie.statusCode, 401)

    const out = await app.call({ method: 'POST', url: '/ui/sign-out', token: null, headers: { cookie } })
    assert.equal(out.statusCode, 204)
    assert.ok(out.cookies.every((x) => x.value === ''))
    const after = await app.call({ method: 'GET', url: '/ui/session', token: null, headers: { cookie } })
    assert.equal(after.statusCode, 401, 'the session ended on the server, not only in the browser')
  })

  test('the page and its sign-in path are served as HTML with the security headers', async (t) => {
    const app = await buildTestApp(t, 'pglite')
    for (const url of ['/ui/', '/ui/sign-in']) {
      const res = await app.call({ method: 'GET', url, token: null })
      assert.equal(res.statusCode, 200)
      assert.match(res.headers['content-type'] as string, /text\/html/)
      assert.match(res.headers['content-security-policy'] as string, /script-src 'self'/)
      assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
    }
    assert.equal((await app.call({ method: 'GET', url: '/ui', token: null })).statusCode, 302)
  })

  test('with UI_FRAME_ANCESTORS and UI_THEME: the listed origins may frame the page, its theme is a stylesheet, and its cookies are third-party ones', async (t) => {
    const embedding = embeddingConfig({
      UI_FRAME_ANCESTORS: 'https://app.example.com, http://localhost:4000',
      UI_THEME: JSON.stringify({
        accent: '#6a1b9a',
        font: "'Inter', sans-serif",
        logo: 'https://cdn.example.com/logo.svg',
      }),
    })
    assert.ok(!('invalid' in embedding))
    const app = await buildTestApp(t, 'pglite', { config: { embedding } })
    const res = await app.call({ method: 'GET', url: '/ui/', token: null })
    const csp = res.headers['content-security-policy'] as string
    assert.match(csp, /frame-ancestors https:\/\/app\.example\.com http:\/\/localhost:4000/)
    assert.match(csp, /img-src 'self' data: https:\/\/cdn\.example\.com/)
    assert.equal(res.headers['x-frame-options'], undefined, 'X-Frame-Options cannot name an origin; the CSP does')
    if (fs.existsSync(path.join(WEB_DIST, 'index.html'))) {
      assert.match(res.body, /<link rel="stylesheet" href="\/ui\/theme\.css">/)
      assert.match(
        res.body,
        /<meta name="ac-frame-ancestors" content="https:\/\/app\.example\.com http:\/\/localhost:4000">/,
      )
    }
    const css = await app.call({ method: 'GET', url: '/ui/theme.css', token: null })
    assert.match(css.headers['content-type'] as string, /^text\/css/)
    assert.equal(
      css.body,
      ":root {\n  --accent: #6a1b9a;\n  --font: 'Inter', sans-serif;\n}\n.brand-logo {\n  display: inline-block;\n  background-image: url('https://cdn.example.com/logo.svg');\n}\n",
    )
    const a = await makeAccount(app)
    const { token } = (
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${a.accountId}/sessions`,
        payload: { userId: a.users.admin },
      })
    ).json()
    const signIn = await app.call({ method: 'POST', url: '/ui/session', payload: { token }, token: null })
    for (const c of signIn.cookies) {
      assert.equal(c.sameSite, 'None', c.name)
      assert.equal(c.secure, true, c.name)
      assert.equal(c.partitioned, true, c.name)
    }
    // without them: nobody frames it, and the cookies stay first-party
    const plain = await buildTestApp(t, 'pglite')
    assert.match(
      (await plain.call({ method: 'GET', url: '/ui/', token: null })).headers['content-security-policy'] as string,
      /frame-ancestors 'none'/,
    )
    assert.equal((await plain.call({ method: 'GET', url: '/ui/theme.css', token: null })).body, '')
  })

  test('UI_FRAME_ANCESTORS and UI_THEME refuse what a browser would read otherwise than written, and any CSS', () => {
    for (const bad of [
      'app.example.com',
      'https://app.example.com/settings',
      'javascript:alert(1)',
      "https://a.example'",
    ])
      assert.deepEqual(embeddingConfig({ UI_FRAME_ANCESTORS: bad }), { invalid: 'UI_FRAME_ANCESTORS' }, bad)
    for (const bad of [
      '{"accent":"red"}',
      '{"accent":"#fff;}body{display:none"}',
      '{"font":"x; background: url(https://evil.example)"}',
      '{"logo":"http://cdn.example.com/logo.svg"}',
      '{"logo":"https://cdn.example.com/a\')"}',
      '{"colour":"#000000"}',
      'not json',
    ])
      assert.deepEqual(embeddingConfig({ UI_THEME: bad }), { invalid: 'UI_THEME' }, bad)
  })

  test("the demo mailbox shows a signed-in user their own account's mail only, and exists only without SMTP", async (t) => {
    const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-demo-mail-'))
    t.after(() => fs.rmSync(mailDir, { recursive: true, force: true }))
    const app = await buildTestApp(t, 'pglite', { config: { mailDir } })
    const a = await makeAccount(app)
    const b = await makeAccount(app)
    // the same folder the eml transport writes every account's mail to, headers as the worker sets them
    const eml = createEmlTransport({ dir: mailDir, from: 'no-reply@ui.test' })
    t.after(() => eml.close())
    for (const [account, n] of [
      [a.accountId, 1],
      [b.accountId, 2],
      [a.accountId, 3],
    ] as const) {
      const sent = await eml.send({
        messageId: `<m${n}@ui.test>`,
        from: 'no-reply@ui.test',
        to: { email: `to${n}@${account}.example` },
        subject: `mail ${n} for ${account}`,
        text: 'hello',
        headers: { [ACCOUNT_HEADER]: account },
      })
      assert.equal(sent.ok, true, sent.detail)
    }
    const list = async (accountId: string, userId: string) => {
      const res = await app.call({
        method: 'GET',
        url: '/ui/demo-mail',
        token: await sessionFor(app, accountId, userId),
      })
      assert.equal(res.statusCode, 200, res.body)
      return (res.json().data as { subject: string }[]).map((m) => m.subject).sort()
    }
    assert.deepEqual(await list(a.accountId, a.users.member!), [
      `mail 1 for ${a.accountId}`,
      `mail 3 for ${a.accountId}`,
    ])
    assert.deepEqual(await list(b.accountId, b.users.admin!), [`mail 2 for ${b.accountId}`])

    const smtp = await buildTestApp(t, 'pglite', { config: { mailDir: undefined } })
    const c = await makeAccount(smtp)
    const none = await smtp.call({
      method: 'GET',
      url: '/ui/demo-mail',
      token: await sessionFor(smtp, c.accountId, c.users.admin!),
    })
    assert.equal(none.statusCode, 404)
  })
})
