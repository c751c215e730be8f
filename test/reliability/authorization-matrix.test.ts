// The authorization matrix: every route of the server × every kind of caller → the status
// docs/PRODUCT.md ("Who may change what", "Resources") calls for. The route list comes from the
// server itself, so a new route without a row here fails the test, and so does a row whose route is
// gone. The statuses are written out by hand from those rules, not derived from the code's access
// modes:
// - platform keys may do everything (the settings page's own calls are for signed-in users only);
// - every active user of an account reads it; its super admins and billing admins change its
//   contacts; only super admins change the account itself;
// - another account answers 404 exactly like a missing id;
// - a parent account's super and billing admins act on its descendants as their billing admins do;
//   to a child's users, its parent is another account (issue 16);
// - no token, a revoked key, or the session of a user deactivated since → 401 (a deactivated user is
//   signed out, as a user of any admin product expects);
// - a refused write changes nothing (a fingerprint of every table, before and after).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import type { InjectOptions } from 'fastify'

import { WEB_DIST } from '../../src/ui/ui.routes.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { dbFingerprint } from '../helpers/db-fingerprint.ts'
import { getSheet, type MadeAccount, makeAccount, sessionFor } from '../helpers/factories.ts'
import { collectRoutes, type ServerRoute } from '../helpers/route-list.ts'
import { suiteScope } from '../helpers/suite-scope.ts'

/** The callers, in the order of the table's columns. */
const ACTORS = [
  'none',
  'revoked',
  'key',
  'super',
  'billing',
  'member',
  'deactivated',
  'foreign',
  'parent',
  'child',
] as const
type ActorName = (typeof ACTORS)[number]

interface World {
  app: TestApp
  /**
   * The account every request is about; `b` is another tenant (its super admin is `foreign`);
   * `parent` is `a`'s parent account, `child` its child (their super admins are `parent` and `child`).
   */
  a: MadeAccount
  b: MadeAccount
  parent: MadeAccount
  child: MadeAccount
  notificationId: string
  broadcastId: string
  asset: string | undefined
  tokens: Record<ActorName, string | null>
}

type Probe = (w: World, actor: ActorName) => InjectOptions | Promise<InjectOptions>
type Statuses = [
  none: number,
  revoked: number,
  key: number,
  superAdmin: number,
  billing: number,
  member: number,
  deactivated: number,
  foreign: number,
  parent: number,
  child: number,
]
interface Row {
  access: string
  expect: Statuses
  probe: Probe
}
const row = (access: string, expect: Statuses, probe: Probe): Row => ({ access, expect, probe })

let seq = 0
const fresh = (p: string) => `${p}-${Date.now().toString(36)}-${(seq++).toString(36)}`

/** The platform key does it, failing the test on anything but a 2xx (or one of `ok`). */
async function setUp(w: World, opts: InjectOptions, ...ok: number[]) {
  const res = await w.app.call(opts)
  if (res.statusCode >= 300 && !ok.includes(res.statusCode))
    throw new Error(`set-up ${opts.method} ${opts.url}: ${res.statusCode} ${res.body}`)
  return res
}

const acct = (w: World) => `/v1/accounts/${w.a.accountId}`
const PUBLIC_OK: Statuses = [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
// prettier-ignore
const READ: Statuses =        [401, 401, 200, 200, 200, 200, 401, 404, 200, 404]
// prettier-ignore
const WRITE: Statuses =       [401, 401, 200, 200, 200, 403, 401, 404, 200, 404]

/**
 * The matrix. Columns: no token, revoked platform key, platform key, super_admin, billing_admin,
 * member, deactivated user's session, another account's super_admin, the super_admin of the
 * account's parent (who manages it as its billing admins do), the super_admin of its child (to
 * whom it is another account). HEAD routes (Fastify's
 * duplicates of GET routes) are expected to answer exactly like their GET row, and are sent too.
 */
// prettier-ignore
const MATRIX: Record<string, Row> = {
  'GET /healthz':       row('public', PUBLIC_OK, () => ({ method: 'GET', url: '/healthz' })),
  'GET /readyz':        row('public', PUBLIC_OK, () => ({ method: 'GET', url: '/readyz' })),
  // the scraper's METRICS_TOKEN, which no caller here has and this app does not set: not served at all
  'GET /metrics':       row('metrics', [404, 404, 404, 404, 404, 404, 404, 404, 404, 404], () => ({ method: 'GET', url: '/metrics' })),
  'GET /openapi.json':  row('public', PUBLIC_OK, () => ({ method: 'GET', url: '/openapi.json' })),
  'GET /v1/categories': row('public', PUBLIC_OK, () => ({ method: 'GET', url: '/v1/categories' })),
  // the link in the verification mail: whoever opens it, an unknown token is the "not valid" page
  'GET /v1/verify-email': row('public', [400, 400, 400, 400, 400, 400, 400, 400, 400, 400], () => ({ method: 'GET', url: '/v1/verify-email?token=not-a-real-token' })),
  // a mail's "Not the right person?" link: its signed token is its only authority
  'GET /v1/not-the-right-person': row('public', [400, 400, 400, 400, 400, 400, 400, 400, 400, 400], () => ({ method: 'GET', url: '/v1/not-the-right-person?token=acr_x.y.not-a-real-signature' })),
  'POST /v1/not-the-right-person': row('public', [400, 400, 400, 400, 400, 400, 400, 400, 400, 400], () => ({ method: 'POST', url: '/v1/not-the-right-person', payload: { token: 'acr_x.y.not-a-real-signature', reason: 'not_me' } })),
  'POST /v1/verify-email': row('public', [400, 400, 400, 400, 400, 400, 400, 400, 400, 400], () => ({ method: 'POST', url: '/v1/verify-email', payload: { token: 'not-a-real-token' } })),

  'POST /v1/accounts': row('platform', [401, 401, 201, 403, 403, 403, 401, 403, 403, 403], () => ({
    method: 'POST', url: '/v1/accounts', payload: { id: fresh('new'), name: 'New Oy' },
  })),
  'GET /v1/accounts': row('platform', [401, 401, 200, 403, 403, 403, 401, 403, 403, 403], () => ({ method: 'GET', url: '/v1/accounts?limit=5' })),
  'GET /v1/accounts/:accountId': row('account:read', READ, (w) => ({ method: 'GET', url: acct(w) })),
  'PATCH /v1/accounts/:accountId': row('account:super', [401, 401, 200, 200, 403, 403, 401, 404, 403, 404], (w) => ({
    method: 'PATCH', url: acct(w), payload: { name: fresh('Renamed Oy') },
  })),
  // the key's success deletes a throwaway account; everyone else aims at the real one
  'DELETE /v1/accounts/:accountId': row('platform', [401, 401, 204, 403, 403, 403, 401, 403, 403, 403], async (w, actor) => {
    if (actor !== 'key') return { method: 'DELETE', url: acct(w) }
    const id = fresh('doomed')
    await setUp(w, { method: 'POST', url: '/v1/accounts', payload: { id, name: 'Doomed Oy' } })
    return { method: 'DELETE', url: `/v1/accounts/${id}` }
  }),

  'GET /v1/accounts/:accountId/users': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/users` })),
  'PUT /v1/accounts/:accountId/users/:userId': row('platform', [401, 401, 201, 403, 403, 403, 401, 403, 403, 403], (w) => {
    const id = fresh('user')
    return { method: 'PUT', url: `${acct(w)}/users/${id}`, payload: { email: `${id}@example.com`, name: 'New User', role: 'member' } }
  }),
  'GET /v1/accounts/:accountId/users/:userId': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/users/${w.a.users.member}` })),
  'PATCH /v1/accounts/:accountId/users/:userId': row('platform', [401, 401, 200, 403, 403, 403, 401, 403, 403, 403], (w) => ({
    method: 'PATCH', url: `${acct(w)}/users/${w.a.users.u1}`, payload: { name: fresh('Renamed') },
  })),

  'GET /v1/accounts/:accountId/contacts': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/contacts` })),
  'PUT /v1/accounts/:accountId/contacts': row('account:write', WRITE, async (w) => ({
    method: 'PUT', url: `${acct(w)}/contacts`, headers: { 'if-match': (await getSheet(w.app, w.a.accountId)).etag },
    payload: { primary: { userId: w.a.users.admin }, billing: [{ userId: w.a.users.billing }], technicalAdmin: { userId: w.a.users.u4 } },
  })),
  'PUT /v1/accounts/:accountId/contacts/:slot': row('account:write', WRITE, (w) => ({
    method: 'PUT', url: `${acct(w)}/contacts/onboarding`, payload: { userId: w.a.users.member },
  })),
  'DELETE /v1/accounts/:accountId/contacts/:slot': row('account:write', WRITE, async (w) => {
    await setUp(w, { method: 'PUT', url: `${acct(w)}/contacts/decision-maker`, payload: { userId: w.a.users.u1 } })
    return { method: 'DELETE', url: `${acct(w)}/contacts/decision-maker` }
  }),
  'POST /v1/accounts/:accountId/contacts/billing': row('account:write', WRITE, async (w) => {
    await setUp(w, { method: 'DELETE', url: `${acct(w)}/contacts/billing/${w.a.users.u2}` }, 404)
    return { method: 'POST', url: `${acct(w)}/contacts/billing`, payload: { userId: w.a.users.u2 } }
  }),
  'DELETE /v1/accounts/:accountId/contacts/billing/:userId': row('account:write', WRITE, async (w) => {
    await setUp(w, { method: 'POST', url: `${acct(w)}/contacts/billing`, payload: { userId: w.a.users.u3 } }, 409)
    return { method: 'DELETE', url: `${acct(w)}/contacts/billing/${w.a.users.u3}` }
  }),
  'PUT /v1/accounts/:accountId/contacts/billing/:userId': row('account:write', WRITE, async (w) => {
    await setUp(w, { method: 'POST', url: `${acct(w)}/contacts/billing`, payload: { userId: w.a.users.u3 } }, 409)
    return { method: 'PUT', url: `${acct(w)}/contacts/billing/${w.a.users.u3}`, payload: { userId: w.a.users.u3 } }
  }),
  'PUT /v1/accounts/:accountId/contacts/rules/:slot': row('account:write', WRITE, (w) => ({
    method: 'PUT', url: `${acct(w)}/contacts/rules/decision-maker`, payload: { rule: 'add' },
  })),
  'POST /v1/accounts/:accountId/contacts/review': row('account:write', WRITE, (w) => ({ method: 'POST', url: `${acct(w)}/contacts/review` })),
  'POST /v1/accounts/:accountId/contacts/security/resend-verification': row('account:write', [401, 401, 202, 202, 202, 403, 401, 404, 202, 404], async (w) => {
    const { sheet } = await getSheet(w.app, w.a.accountId)
    if (sheet.security?.type !== 'email') {
      await setUp(w, { method: 'PUT', url: `${acct(w)}/contacts/security`, payload: { email: 'soc@outside.example' } })
    }
    // as if the verification-mail limits' windows had passed: each caller's resend is one more mail
    await w.app.handle.db.deleteFrom('verification_mail_limits').where('account_id', '=', w.a.accountId).execute()
    return { method: 'POST', url: `${acct(w)}/contacts/security/resend-verification` }
  }),
  'GET /v1/accounts/:accountId/contacts/security/verification': row('account:read', READ, async (w) => {
    const { sheet } = await getSheet(w.app, w.a.accountId)
    if (sheet.security?.type !== 'email') {
      await setUp(w, { method: 'PUT', url: `${acct(w)}/contacts/security`, payload: { email: 'soc@outside.example' } })
    }
    return { method: 'GET', url: `${acct(w)}/contacts/security/verification` }
  }),

  'POST /v1/accounts/:accountId/sessions': row('platform', [401, 401, 201, 403, 403, 403, 401, 403, 403, 403], (w) => ({
    method: 'POST', url: `${acct(w)}/sessions`, payload: { userId: w.a.users.member },
  })),
  'GET /v1/accounts/:accountId/audit-events': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/audit-events?limit=5` })),
  'GET /v1/accounts/:accountId/health': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/health` })),
  'GET /v1/accounts/:accountId/descendants': row('account:write', WRITE, (w) => ({ method: 'GET', url: `${acct(w)}/descendants` })),
  'GET /v1/accounts/:accountId/recipients': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/recipients?category=invoice` })),
  'GET /v1/accounts/:accountId/routing': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/routing` })),

  'POST /v1/accounts/:accountId/notifications': row('platform', [401, 401, 202, 403, 403, 403, 401, 403, 403, 403], (w) => ({
    method: 'POST', url: `${acct(w)}/notifications`, payload: { category: 'invoice', subject: 'Invoice 1', text: 'Your invoice.' },
  })),
  'POST /v1/accounts/:accountId/notifications/test': row('account:write', [401, 401, 202, 202, 202, 403, 401, 404, 202, 404], (w) => ({
    method: 'POST', url: `${acct(w)}/notifications/test`, payload: { category: 'invoice' },
  })),
  'GET /v1/accounts/:accountId/notifications': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/notifications?limit=5` })),
  'GET /v1/accounts/:accountId/notifications/:notificationId': row('account:read', READ, (w) => ({
    method: 'GET', url: `${acct(w)}/notifications/${w.notificationId}`,
  })),
  'POST /v1/accounts/:accountId/notifications/:notificationId/resend': row('account:write', [401, 401, 202, 202, 202, 403, 401, 404, 202, 404], (w) => ({
    method: 'POST', url: `${acct(w)}/notifications/${w.notificationId}/resend`,
  })),
  'GET /v1/accounts/:accountId/suppressions': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/suppressions` })),
  'DELETE /v1/accounts/:accountId/suppressions/:email': row('account:write', [401, 401, 204, 204, 204, 403, 401, 404, 204, 404], async (w) => {
    const email = `${fresh('gone')}@example.com`
    await w.app.handle.db.insertInto('suppressions').values({ account_id: w.a.accountId, email, reason: '550 5.1.1', delivery_id: null }).execute()
    return { method: 'DELETE', url: `${acct(w)}/suppressions/${email}` }
  }),
  'GET /v1/accounts/:accountId/correction-requests': row('account:read', READ, (w) => ({ method: 'GET', url: `${acct(w)}/correction-requests` })),
  'POST /v1/accounts/:accountId/correction-requests/:requestId/dismiss': row('account:write', [401, 401, 200, 200, 200, 403, 401, 404, 200, 404], async (w) => {
    const id = fresh('crq')
    await w.app.handle.db.insertInto('correction_requests').values({
      account_id: w.a.accountId, id, delivery_id: id, notification_id: null, category: 'invoice', subject: 'Invoice',
      email: 'x@example.com', slots: ['billing'], reason: 'left', suggested_email: null, note: null,
    }).execute()
    return { method: 'POST', url: `${acct(w)}/correction-requests/${id}/dismiss` }
  }),
  // authenticated by each email service's own signature, not by our credentials: the test app configures none (404)
  'POST /v1/email-events/:provider': row('public', [404, 404, 404, 404, 404, 404, 404, 404, 404, 404], () => ({
    method: 'POST', url: '/v1/email-events/postmark', payload: { RecordType: 'Bounce' },
  })),

  'POST /v1/broadcasts': row('platform', [401, 401, 202, 403, 403, 403, 401, 403, 403, 403], (w) => ({
    method: 'POST', url: '/v1/broadcasts', payload: { category: 'account_update', subject: 'News', text: 'Hello.', accountIds: [w.a.accountId] },
  })),
  'GET /v1/broadcasts/:broadcastId': row('platform', [401, 401, 200, 403, 403, 403, 401, 403, 403, 403], (w) => ({ method: 'GET', url: `/v1/broadcasts/${w.broadcastId}` })),
  'POST /v1/broadcasts/:broadcastId/cancel': row('platform', [401, 401, 200, 403, 403, 403, 401, 403, 403, 403], async (w) => {
    const created = await setUp(w, { method: 'POST', url: '/v1/broadcasts', payload: { category: 'account_update', subject: 'Doomed', text: 'x', accountIds: [w.a.accountId] } })
    return { method: 'POST', url: `/v1/broadcasts/${created.json().id}/cancel` }
  }),
  'POST /v1/webhook-endpoints': row('platform', [401, 401, 201, 403, 403, 403, 401, 403, 403, 403], () => ({
    method: 'POST', url: '/v1/webhook-endpoints', payload: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['contacts.updated'] },
  })),
  'GET /v1/webhook-endpoints': row('platform', [401, 401, 200, 403, 403, 403, 401, 403, 403, 403], () => ({ method: 'GET', url: '/v1/webhook-endpoints' })),
  'DELETE /v1/webhook-endpoints/:endpointId': row('platform', [401, 401, 204, 403, 403, 403, 401, 403, 403, 403], async (w) => {
    const created = await setUp(w, { method: 'POST', url: '/v1/webhook-endpoints', payload: { url: 'http://127.0.0.1:9/doomed' } })
    return { method: 'DELETE', url: `/v1/webhook-endpoints/${created.json().id}` }
  }),

  // the settings page: its files are public, it signs in by exchanging the link's token for cookies
  'GET /ui':          row('public', [302, 302, 302, 302, 302, 302, 302, 302, 302, 302], () => ({ method: 'GET', url: '/ui' })),
  'GET /ui/*':        row('public', PUBLIC_OK, () => ({ method: 'GET', url: '/ui/company-information' })),
  'GET /ui/assets/*': row('public', PUBLIC_OK, (w) => ({ method: 'GET', url: `/ui/assets/${w.asset}` })),
  'GET /ui/theme.css': row('public', PUBLIC_OK, () => ({ method: 'GET', url: '/ui/theme.css' })),
  'POST /ui/session': row('public', PUBLIC_OK, async (w) => ({
    method: 'POST', url: '/ui/session', payload: { token: await sessionFor(w.app, w.a.accountId, w.a.users.member!) },
  })),
  'POST /ui/sign-out': row('public', [204, 204, 204, 204, 204, 204, 204, 204, 204, 204], () => ({ method: 'POST', url: '/ui/sign-out' })),
  // who is signed in (the page's own call): any signed-in user, their own session; not a key
  'GET /ui/session':   row('session', [401, 401, 403, 200, 200, 200, 401, 200, 200, 200], () => ({ method: 'GET', url: '/ui/session' })),
  'GET /ui/demo-mail': row('session', [401, 401, 403, 200, 200, 200, 401, 200, 200, 200], () => ({ method: 'GET', url: '/ui/demo-mail' })),
}

/** Routes the OpenAPI document leaves out on purpose, each with the reason. */
const NOT_IN_OPENAPI: Record<string, string> = {
  'GET /openapi.json': 'the document itself',
  'GET /ui': "the settings page's redirect to /ui/, not an API call",
  'GET /ui/*': "the settings page's HTML (a single-page app that routes on the client)",
  'GET /ui/assets/*': "the settings page's built scripts and styles",
  'GET /ui/theme.css': "the operator's theme of the settings page (UI_THEME)",
  'POST /ui/session': "the page's sign-in: exchanges the link's token for cookies",
  'GET /ui/session': "the page's own call: who is signed in",
  'POST /ui/sign-out': "the page's sign-out: clears the cookies",
  'GET /ui/demo-mail': "the page's demo mailbox (mail written as .eml files)",
}
const built = fs.existsSync(path.join(WEB_DIST, 'index.html'))

const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
const PROBLEM_TYPES: Record<number, string> = {
  401: '/problems/unauthenticated',
  403: '/problems/forbidden',
  404: '/problems/not-found',
}

async function makeWorld(t: TestApp): Promise<World> {
  const parent = await makeAccount(t)
  const a = await makeAccount(t, { extraUsers: 4, parentAccountId: parent.accountId })
  const child = await makeAccount(t, { parentAccountId: a.accountId })
  const b = await makeAccount(t, { extraUsers: 1 })
  const key = t.apiKey
  const revokedKey = await t.services.apiKeys.create('revoked')
  assert.equal((await t.services.apiKeys.revoke(revokedKey.id)).length, 1)

  // a user who had a session, then was deactivated by the host product
  const gone = fresh('gone')
  await t.call({
    method: 'PUT',
    url: `/v1/accounts/${a.accountId}/users/${gone}`,
    payload: { email: `${gone}@example.com`, name: 'Gone', role: 'super_admin' },
  })
  const goneToken = await sessionFor(t, a.accountId, gone)
  assert.equal(
    (await t.call({ method: 'GET', url: `/v1/accounts/${a.accountId}`, token: goneToken })).statusCode,
    200,
    'the session worked while the user was active',
  )
  const deactivated = await t.call({
    method: 'PATCH',
    url: `/v1/accounts/${a.accountId}/users/${gone}`,
    payload: { status: 'deactivated' },
  })
  assert.equal(deactivated.statusCode, 200)

  await t.call({
    method: 'PUT',
    url: `/v1/accounts/${a.accountId}/contacts/primary`,
    payload: { userId: a.users.admin },
  })
  const sent = await t.call({
    method: 'POST',
    url: `/v1/accounts/${a.accountId}/notifications`,
    payload: { category: 'invoice', subject: 'Invoice 0', text: 'x' },
  })
  const broadcast = await t.call({
    method: 'POST',
    url: '/v1/broadcasts',
    payload: { category: 'account_update', subject: 'News', text: 'x', accountIds: [a.accountId] },
  })
  const assets = built ? fs.readdirSync(path.join(WEB_DIST, 'assets')) : []
  return {
    app: t,
    a,
    b,
    parent,
    child,
    notificationId: sent.json().id,
    broadcastId: broadcast.json().id,
    asset: assets[0],
    tokens: {
      none: null,
      revoked: revokedKey.key,
      key,
      super: await sessionFor(t, a.accountId, a.users.admin!),
      billing: await sessionFor(t, a.accountId, a.users.billing!),
      member: await sessionFor(t, a.accountId, a.users.member!),
      deactivated: goneToken,
      foreign: await sessionFor(t, b.accountId, b.users.admin!),
      parent: await sessionFor(t, parent.accountId, parent.users.admin!),
      child: await sessionFor(t, child.accountId, child.users.admin!),
    },
  }
}

for (const kind of DATABASES) {
  describe(`[${kind}] authorization matrix`, () => {
    // one app for the file (building one costs seconds): the route list is what its build registered
    const suite = suiteScope()
    let app: TestApp
    let routes: ServerRoute[]
    before(async () => {
      const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authz-mail-'))
      suite.scope.after(() => fs.rmSync(mailDir, { recursive: true, force: true }))
      ;({ value: app, routes } = await collectRoutes(() => buildTestApp(suite.scope, kind, { config: { mailDir } })))
    })
    after(() => suite.close())

    test('the server, the matrix and the OpenAPI document list the same routes', async (t) => {
      const nonHead = routes.filter((r) => r.method !== 'HEAD')
      const serverKeys = new Set(nonHead.map((r) => r.key))

      // every GET route has its HEAD twin, and HEAD routes are only those twins
      const heads = routes
        .filter((r) => r.method === 'HEAD')
        .map((r) => r.url)
        .sort()
      assert.deepEqual(
        heads,
        nonHead
          .filter((r) => r.method === 'GET')
          .map((r) => r.url)
          .sort(),
      )

      const expected = Object.keys(MATRIX).filter((k) => built || k !== 'GET /ui/assets/*')
      assert.deepEqual(
        [...serverKeys].filter((k) => !(k in MATRIX)),
        [],
        'routes the server has and the matrix lacks',
      )
      assert.deepEqual(
        expected.filter((k) => !serverKeys.has(k)),
        [],
        'matrix rows for routes the server does not have',
      )
      for (const r of nonHead) assert.equal(r.access, MATRIX[r.key]!.access, `${r.key} declares access ${r.access}`)

      const doc = (await app.call({ method: 'GET', url: '/openapi.json', token: null })).json()
      const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
      )
      const served = nonHead.filter((r) => !(r.key in NOT_IN_OPENAPI)).map((r) => `${r.method} ${toOpenApiPath(r.url)}`)
      assert.deepEqual(
        [...new Set(documented)].sort(),
        [...new Set(served)].sort(),
        'server routes and OpenAPI operations',
      )
      for (const r of nonHead)
        assert.equal(
          r.hidden,
          r.key in NOT_IN_OPENAPI,
          `${r.key}: hidden from the document exactly when listed as an exception`,
        )
      t.diagnostic(
        `routes: ${nonHead.length} (+${heads.length} HEAD), ${documented.length} OpenAPI operations, ${Object.keys(NOT_IN_OPENAPI).length} listed exceptions`,
      )
    })

    test('every route × every caller answers the status the spec calls for; refused writes change nothing', async (t) => {
      const started = Date.now()
      const w = await makeWorld(app)

      const failures: string[] = []
      let requests = 0
      let refusedWrites = 0
      for (const route of routes) {
        const base = route.method === 'HEAD' ? `GET ${route.url}` : route.key
        const entry = MATRIX[base]
        if (!entry) {
          failures.push(`${route.key}: no row in the matrix`)
          continue
        }
        for (const [i, actor] of ACTORS.entries()) {
          const want = entry.expect[i]!
          const probe = { ...(await entry.probe(w, actor)), method: route.method as InjectOptions['method'] }
          const write = !['GET', 'HEAD'].includes(route.method)
          const before = write && want >= 400 ? await dbFingerprint(app.handle.db) : undefined
          const res = await app.call({ ...probe, token: w.tokens[actor] })
          requests++
          const where = `${route.key} as ${actor}`
          if (res.statusCode !== want) {
            failures.push(`${where}: ${res.statusCode}, expected ${want} (${res.body.slice(0, 160)})`)
            continue
          }
          if (PROBLEM_TYPES[want] && entry.access !== 'public' && route.method !== 'HEAD') {
            const type = res.json().type
            if (type !== PROBLEM_TYPES[want])
              failures.push(`${where}: problem type ${type}, expected ${PROBLEM_TYPES[want]}`)
          }
          if (before) {
            refusedWrites++
            const after = await dbFingerprint(app.handle.db)
            const changed = Object.keys(after).filter((k) => after[k] !== before[k])
            if (changed.length > 0) failures.push(`${where}: refused with ${want}, yet changed ${changed.join(', ')}`)
          }
        }
      }
      assert.deepEqual(failures, [])
      t.diagnostic(
        `authorization matrix [${kind}]: ${routes.length} routes × ${ACTORS.length} callers = ${requests} requests, ` +
          `${refusedWrites} refused writes checked unchanged, 0 failures, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      )
    })

    test("a deactivated user's session stays dead after reactivation, and a demoted admin loses write at once", async () => {
      const { accountId, users } = await makeAccount(app)
      const token = await sessionFor(app, accountId, users.billing!)
      const write = () => app.call({ method: 'POST', url: `/v1/accounts/${accountId}/contacts/review`, token })
      assert.equal((await write()).statusCode, 200)

      await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.billing}`,
        payload: { role: 'member' },
      })
      assert.equal((await write()).statusCode, 403, 'the role is read at every request, not frozen in the session')

      await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.billing}`,
        payload: { status: 'deactivated' },
      })
      assert.equal((await app.call({ method: 'GET', url: `/v1/accounts/${accountId}`, token })).statusCode, 401)
      await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.billing}`,
        payload: { status: 'active', role: 'billing_admin' },
      })
      const again = await app.call({ method: 'GET', url: `/v1/accounts/${accountId}`, token })
      assert.equal(
        again.statusCode,
        401,
        'deactivation signed the user out for good: reactivating does not revive an old session',
      )
    })
  })
}
