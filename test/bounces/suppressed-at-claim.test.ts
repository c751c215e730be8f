import assert from 'node:assert/strict'
import { test } from 'node:test'

import { suppressWrite } from '../../src/bounces/bounces.repository.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, putSheet } from '../helpers/factories.ts'
import { mailParts } from '../helpers/mail-parts.ts'
import { appWithMail } from '../helpers/test-worker.ts'
import type { SmtpSink } from '../peers/smtp-sink.ts'

/*
 * An address suppressed after a notification was queued to it, before a worker claimed the
 * delivery: nothing goes to it, and the notification goes to its fallback, as after a bounce.
 */

const addressesOf = (sink: SmtpSink) =>
  sink.messages
    .flatMap((m) => (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((a) => a.value.map((v) => v.address!)))
    .map((a) => a.toLowerCase())

for (const kind of DATABASES) {
  test(`[${kind}] mail queued to an address suppressed before the claim goes to the fallback instead, once`, async (t) => {
    const { app, sink, drain } = await appWithMail(t, kind)
    const { accountId, users } = await makeAccount(app)
    await putSheet(app, accountId, { primary: { userId: users.admin! }, billing: [{ userId: users.member! }] })
    const dead = `${users.member}@example.com`
    const sent = await app.call({
      method: 'POST',
      url: `/v1/accounts/${accountId}/notifications`,
      payload: { category: 'receipt', subject: 'Your receipt', text: 'Thank you.' },
    })
    assert.equal(sent.statusCode, 202, sent.body)
    assert.deepEqual(
      sent.json().recipients.map((r: { email: string }) => r.email),
      [dead],
    )
    // another mail's bounce (or a complaint) suppresses the address while this one waits
    await suppressWrite(app.services.db, {
      accountId,
      email: dead,
      kind: 'hard_bounce',
      reason: '550 5.1.1 no such user',
      source: 'smtp',
      deliveryId: 'another',
    }).execute()
    await drain()
    await drain()

    assert.deepEqual(addressesOf(sink), [`${users.admin}@example.com`], 'the primary contact only, once')
    assert.equal(
      mailParts(sink.messages[0]!.text).why,
      `You receive this as primary account contact of Account ${accountId}. It was meant for ${dead}, where mail does not arrive.`,
    )
    const n = (
      await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/notifications/${sent.json().id}` })
    ).json()
    const byRecipient = new Map(n.deliveries.map((d: { recipient: string }) => [d.recipient, d]))
    const diverted = byRecipient.get(dead) as { id: string; status: string; attempts: number; lastError: string }
    assert.equal(diverted.status, 'bounced')
    assert.equal(diverted.attempts, 0, 'never sent')
    assert.match(diverted.lastError, /suppression list \(550 5\.1\.1 no such user\)/)
    const fallback = byRecipient.get(`${users.admin}@example.com`) as { status: string; fallbackFor: string }
    assert.equal(fallback.status, 'delivered')
    assert.equal(fallback.fallbackFor, diverted.id)
    assert.equal(n.status, 'partially_failed')
  })
}
