import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'

import { ConfigError } from '../../src/config/config.ts'
import { DEFAULT_POLICY, loadRoutingPolicy, SENDABLE_CATEGORIES } from '../../src/routing/routing-policy.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { makeAccount, putSheet, sessionFor } from '../helpers/factories.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'

const writeJson = (value: unknown) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'policy-')), 'policy.json')
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value))
  return file
}

describe('[policy] ROUTING_POLICY', () => {
  test('a valid file replaces the built-in table', () => {
    const custom = { ...DEFAULT_POLICY, invoice: { to: ['billing'], fallback: ['primary'] } }
    assert.deepEqual(loadRoutingPolicy(writeJson(custom)).invoice, { to: ['billing'], fallback: ['primary'] })
  })

  test('a bad file stops the start with a message naming the variable and the place', () => {
    assert.throws(
      () => loadRoutingPolicy(writeJson('{ not json')),
      (e: Error) => e instanceof ConfigError && /ROUTING_POLICY/.test(e.message),
    )
    const missing = Object.fromEntries(Object.entries(DEFAULT_POLICY).filter(([k]) => k !== 'receipt'))
    assert.throws(() => loadRoutingPolicy(writeJson(missing)), /ROUTING_POLICY is not valid/)
    const badSlot = { ...DEFAULT_POLICY, invoice: { to: ['treasurer'], fallback: null } }
    assert.throws(() => loadRoutingPolicy(writeJson(badSlot)), /ROUTING_POLICY is not valid: .*\/invoice\/to/)
  })
})

describe('[pglite] categories, preview and test send', () => {
  test('GET /v1/categories lists every sendable category with its slots and fallback', async (t) => {
    const app = await buildTestApp(t, 'pglite')
    const res = await app.call({ method: 'GET', url: '/v1/categories', token: null })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(
      res.json().data.map((c: { category: string }) => c.category),
      [...SENDABLE_CATEGORIES],
    )
    const receipt = res.json().data.find((c: { category: string }) => c.category === 'receipt')
    assert.deepEqual([receipt.to, receipt.fallback], [['billing'], ['primary']])
  })

  test('the preview is readable by any user of the account; a test send tells each recipient why, marked as a test', async (t) => {
    const app = await buildTestApp(t, 'pglite')
    const sink = await startSmtpSink()
    t.after(() => sink.close())
    const { drain } = testWorker(t, app, { smtpUrl: sink.url })
    const { accountId, users } = await makeAccount(app)
    await putSheet(app, accountId, { primary: { userId: users.admin }, billing: [{ userId: users.billing }] })
    const member = await sessionFor(app, accountId, users.member!)
    const preview = await app.call({
      method: 'GET',
      url: `/v1/accounts/${accountId}/recipients?category=renewal`,
      token: member,
    })
    assert.equal(preview.statusCode, 200)
    assert.equal(preview.json().recipients.length, 2)

    const denied = await app.call({
      method: 'POST',
      url: `/v1/accounts/${accountId}/notifications/test`,
      token: member,
      payload: { category: 'renewal' },
    })
    assert.equal(denied.statusCode, 403)
    const admin = await sessionFor(app, accountId, users.billing!)
    const sent = await app.call({
      method: 'POST',
      url: `/v1/accounts/${accountId}/notifications/test`,
      token: admin,
      payload: { category: 'renewal' },
    })
    assert.equal(sent.statusCode, 202, sent.body)
    await drain()
    const mails = sink.messages.filter((m) => /^\[Test\]/.test(m.subject ?? ''))
    assert.equal(mails.length, 2)
    const toBilling = mails.find((m) => JSON.stringify(m.to).includes(`${users.billing}@example.com`))!
    assert.match(toBilling.text ?? '', /billing contact/i)
    const got = (
      await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/notifications/${sent.json().id}` })
    ).json()
    assert.equal(got.isTest, true)
    assert.equal(got.status, 'delivered')
  })
})
