import assert from 'node:assert/strict'
import { createHmac, generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'

import { createProviderVerifiers } from '../../../src/bounces/providers/index.ts'

const now = new Date('2026-03-01T12:00:00Z')
const deps = { now: () => now }

test('only configured providers get a verifier, and each verifies its own way', async () => {
  const verifiers = createProviderVerifiers(
    { postmark: { username: 'u', password: 'p' }, mailgun: { signingKey: 'k' } },
    deps,
  )
  assert.equal(verifiers.ses, undefined)
  assert.equal(verifiers.sendgrid, undefined)
  const postmark = await verifiers.postmark!({
    headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
    rawBody: Buffer.from('{"RecordType":"Open"}'),
  })
  assert.deepEqual(postmark, { ok: true, events: [] })

  const timestamp = String(now.getTime() / 1000)
  const signature = createHmac('sha256', 'k').update(`${timestamp}tok`).digest('hex')
  const body = JSON.stringify({ signature: { timestamp, token: 'tok', signature }, 'event-data': { event: 'opened' } })
  const mailgun = verifiers.mailgun!
  assert.deepEqual(await mailgun({ headers: {}, rawBody: Buffer.from(body) }), { ok: true, events: [] })
  // The token memory outlives the request: the same body again is a replay.
  assert.equal((await mailgun({ headers: {}, rawBody: Buffer.from(body) })).ok, false)
})

test('a configuration that cannot verify anything fails at creation', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
  const rsaSpki = rsa.export({ format: 'der', type: 'spki' }).toString('base64')
  assert.throws(() => createProviderVerifiers({ ses: { topicArns: [] } }, deps), /topic/)
  assert.throws(() => createProviderVerifiers({ sendgrid: { publicKey: rsaSpki } }, deps), /P-256/)
  assert.throws(() => createProviderVerifiers({ sendgrid: { publicKey: 'not base64 der' } }, deps))
  assert.throws(() => createProviderVerifiers({ postmark: { username: 'u', password: '' } }, deps), /Postmark/)
  assert.throws(() => createProviderVerifiers({ mailgun: { signingKey: '' } }, deps), /Mailgun/)
})
