import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'

import { sql } from 'kysely'
import { Webhook } from 'standardwebhooks'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount } from '../helpers/factories.ts'
import { appWithMail } from '../helpers/test-worker.ts'
import { type ReceivedWebhook, type ReceiverAnswer, startWebhookReceiver } from '../peers/webhook-receiver.ts'

interface Event {
  type: string
  timestamp: string
  accountId: string
  data: Record<string, unknown>
}

async function receiver(t: TestContext, respond?: (req: ReceivedWebhook, n: number) => ReceiverAnswer | null) {
  const r = await startWebhookReceiver(respond ? { respond } : {})
  t.after(() => r.close())
  return r
}

async function createEndpoint(app: TestApp, payload: { url: string; eventTypes?: string[]; description?: string }) {
  const res = await app.call({ method: 'POST', url: '/v1/webhook-endpoints', payload })
  assert.equal(res.statusCode, 201, res.body)
  return res.json() as { id: string; url: string; secret: string; status: string; eventTypes: string[] | null }
}

const listEndpoints = async (app: TestApp) => {
  const res = await app.call({ method: 'GET', url: '/v1/webhook-endpoints' })
  assert.equal(res.statusCode, 200, res.body)
  return res.json().data as {
    id: string
    url: string
    status: string
    disabledReason: string | null
    [k: string]: unknown
  }[]
}

/** Each request's body, checked against its Standard Webhooks signature first. */
function verified(requests: ReceivedWebhook[], secret: string): Event[] {
  return requests.map((r) => {
    const payload = new Webhook(secret).verify(r.body, r.headers) as Event
    assert.deepEqual(payload, JSON.parse(r.body))
    return payload
  })
}

const types = (events: Event[]) => events.map((e) => e.type)

async function setPrimary(app: TestApp, accountId: string, userId: string) {
  const res = await app.call({ method: 'PUT', url: `/v1/accounts/${accountId}/contacts/primary`, payload: { userId } })
  assert.equal(res.statusCode, 200, res.body)
}

async function webhookDeliveries(app: TestApp, endpointId: string) {
  const res = await sql<{ status: string; attempts: number; last_error: string | null; id: string }>`
    select id, status, attempts, last_error from deliveries where channel = 'webhook' and endpoint_id = ${endpointId} order by created_at`.execute(
    app.handle.db,
  )
  return res.rows
}

for (const kind of DATABASES) {
  describe(`[${kind}] webhooks to a real receiver`, () => {
    test('an endpoint is created with a whsec_ secret shown once; a contact change arrives signed as contacts.updated', async (t) => {
      const { app, drain } = await appWithMail(t, kind)
      const r = await receiver(t)
      const created = await createEndpoint(app, { url: r.url, description: 'CRM sync' })
      assert.match(created.secret, /^whsec_[A-Za-z0-9+/=]+$/)
      assert.equal(created.status, 'enabled')
      assert.equal(created.eventTypes, null)

      const listed = await listEndpoints(app)
      assert.equal(listed.length, 1)
      assert.equal(listed[0]!.id, created.id)
      assert.equal(listed[0]!.url, r.url)
      assert.ok(!('secret' in listed[0]!), 'the secret is never listed')
      assert.doesNotMatch(JSON.stringify(listed), /whsec_/)

      const { accountId, users } = await makeAccount(app)
      await setPrimary(app, accountId, users.admin!)
      await drain()

      const events = verified(r.requests, created.secret)
      assert.deepEqual(types(events), ['contacts.updated'])
      const [e] = events
      assert.equal(e!.accountId, accountId)
      assert.ok(!Number.isNaN(Date.parse(e!.timestamp)), e!.timestamp)
      assert.ok(e!.data && typeof e!.data === 'object')
      assert.equal((e!.data.contacts as { primary: { userId: string } }).primary.userId, users.admin)

      const got = r.requests[0]!
      assert.equal(got.method, 'POST')
      assert.match(got.headers['webhook-id']!, /\S/)
      assert.match(got.headers['webhook-signature']!, /^v1,/)
      // a tampered body or another secret does not verify
      assert.throws(() => new Webhook(created.secret).verify(got.body.replace(accountId, 'evil'), got.headers))
      const other = await createEndpoint(app, { url: `${r.url}/other` })
      assert.throws(() => new Webhook(other.secret).verify(got.body, got.headers))
    })

    test('deactivating a user who holds a slot sends contacts.vacated and user.deactivated', async (t) => {
      const { app, drain } = await appWithMail(t, kind)
      const { accountId, users } = await makeAccount(app)
      await setPrimary(app, accountId, users.member!)
      const r = await receiver(t)
      const { secret } = await createEndpoint(app, { url: r.url })

      const res = await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.member}`,
        payload: { status: 'deactivated' },
      })
      assert.equal(res.statusCode, 200, res.body)
      await drain()

      const events = verified(r.requests, secret)
      assert.deepEqual(types(events).sort(), ['contacts.vacated', 'user.deactivated'])
      const vacated = events.find((e) => e.type === 'contacts.vacated')!
      assert.equal(vacated.accountId, accountId)
      assert.equal(vacated.data.userId, users.member)
      assert.equal((vacated.data.contacts as { primary: unknown }).primary, null)
      const deactivated = events.find((e) => e.type === 'user.deactivated')!
      assert.equal(deactivated.data.userId, users.member)
      assert.deepEqual(deactivated.data.vacatedSlots, ['primary'])
    })

    test('a delivered notification sends notification.delivered', async (t) => {
      const { app, drain, sink } = await appWithMail(t, kind)
      const { accountId, users } = await makeAccount(app)
      await setPrimary(app, accountId, users.member!)
      const r = await receiver(t)
      const { secret } = await createEndpoint(app, { url: r.url })

      const sent = await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications`,
        payload: { category: 'account_update', subject: 'New feature', text: 'New feature.' },
      })
      assert.equal(sent.statusCode, 202, sent.body)
      await drain()
      assert.equal(sink.messages.filter((m) => m.subject === 'New feature').length, 1)

      const events = verified(r.requests, secret)
      assert.deepEqual(types(events), ['notification.delivered'])
      assert.equal(events[0]!.accountId, accountId)
      assert.equal(events[0]!.data.notificationId, sent.json().id)
      assert.equal(events[0]!.data.category, 'account_update')
      assert.equal(events[0]!.data.delivered, 1)
      assert.equal(events[0]!.data.failed, 0)
    })

    test('an endpoint subscribed to user.deactivated receives only those', async (t) => {
      const { app, drain } = await appWithMail(t, kind)
      const only = await receiver(t)
      const all = await receiver(t)
      const onlyEndpoint = await createEndpoint(app, { url: only.url, eventTypes: ['user.deactivated'] })
      assert.deepEqual(onlyEndpoint.eventTypes, ['user.deactivated'])
      const allEndpoint = await createEndpoint(app, { url: all.url })

      const { accountId, users } = await makeAccount(app)
      await setPrimary(app, accountId, users.member!)
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications`,
        payload: { category: 'account_update', subject: 'S', text: 'T' },
      })
      await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.member}`,
        payload: { status: 'deactivated' },
      })
      await drain()

      assert.deepEqual(types(verified(only.requests, onlyEndpoint.secret)), ['user.deactivated'])
      assert.deepEqual(types(verified(all.requests, allEndpoint.secret)).sort(), [
        'contacts.updated',
        'contacts.vacated',
        'notification.delivered',
        'user.deactivated',
      ])
    })

    test('an endpoint answering 410 is disabled, with a reason, and receives nothing more', async (t) => {
      const { app, drain } = await appWithMail(t, kind)
      const r = await receiver(t, () => ({ status: 410 }))
      const endpoint = await createEndpoint(app, { url: r.url })
      const { accountId, users } = await makeAccount(app)

      await setPrimary(app, accountId, users.admin!)
      await drain()
      assert.equal(r.requests.length, 1)
      const [listed] = await listEndpoints(app)
      assert.equal(listed!.status, 'disabled')
      assert.match(listed!.disabledReason ?? '', /410/)
      const [d] = await webhookDeliveries(app, endpoint.id)
      assert.equal(d!.status, 'failed')
      assert.equal(d!.attempts, 1)

      await setPrimary(app, accountId, users.billing!)
      await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.billing}`,
        payload: { status: 'deactivated' },
      })
      await drain()
      assert.equal(r.requests.length, 1, 'nothing after the 410')
      assert.equal(
        (await webhookDeliveries(app, endpoint.id)).length,
        1,
        'no new deliveries are queued to a disabled endpoint',
      )
    })

    test('a 500 is retried, and the retry that answers 200 is delivered', async (t) => {
      const { app, drain } = await appWithMail(t, kind)
      const r = await receiver(t, (_req, n) => (n === 1 ? { status: 500 } : { status: 200 }))
      const endpoint = await createEndpoint(app, { url: r.url })
      const { accountId, users } = await makeAccount(app)
      await setPrimary(app, accountId, users.admin!)
      await drain()

      assert.equal(r.requests.length, 2)
      const events = verified(r.requests, endpoint.secret)
      assert.deepEqual(types(events), ['contacts.updated', 'contacts.updated'])
      // the same message both times, so a receiver can deduplicate
      assert.equal(r.requests[0]!.headers['webhook-id'], r.requests[1]!.headers['webhook-id'])
      assert.equal(r.requests[0]!.body, r.requests[1]!.body)
      const [d] = await webhookDeliveries(app, endpoint.id)
      assert.equal(d!.status, 'delivered')
      assert.equal(d!.attempts, 2)
    })

    test('a loopback URL is refused with 400 validation-failed unless private addresses are allowed', async (t) => {
      const app = await buildTestApp(t, kind, { webhookAllowPrivate: false })
      for (const url of [
        'http://127.0.0.1:8080/hooks',
        'http://localhost/hooks',
        'http://[::1]/hooks',
        'http://10.1.2.3/hooks',
        'http://169.254.169.254/latest',
      ]) {
        const res = await app.call({ method: 'POST', url: '/v1/webhook-endpoints', payload: { url } })
        assert.equal(res.statusCode, 400, `${url}: ${res.body}`)
        const problem = res.json()
        assert.equal(problem.type, '/problems/validation-failed')
        assert.ok(
          problem.errors.some((e: { path: string }) => e.path === '/body/url'),
          `${url}: ${JSON.stringify(problem.errors)}`,
        )
      }
      assert.deepEqual(await listEndpoints(app), [])
    })

    test('DELETE removes an endpoint: 404 after, and it receives nothing', async (t) => {
      const { app, drain } = await appWithMail(t, kind)
      const r = await receiver(t)
      const endpoint = await createEndpoint(app, { url: r.url })
      const del = await app.call({ method: 'DELETE', url: `/v1/webhook-endpoints/${endpoint.id}` })
      assert.equal(del.statusCode, 204, del.body)
      assert.deepEqual(await listEndpoints(app), [])
      const again = await app.call({ method: 'DELETE', url: `/v1/webhook-endpoints/${endpoint.id}` })
      assert.equal(again.statusCode, 404, again.body)
      assert.equal(again.json().type, '/problems/not-found')

      const { accountId, users } = await makeAccount(app)
      await setPrimary(app, accountId, users.admin!)
      await drain()
      assert.equal(r.requests.length, 0)
    })
  })
}
