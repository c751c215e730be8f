import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { test } from 'node:test'

import type { ProviderRequest } from '../../../src/bounces/providers/provider-request.ts'
import { verifySendgrid } from '../../../src/bounces/providers/sendgrid.ts'

// SendGrid signs with an ECDSA P-256 key and shows the public half as base64 DER (SPKI).
const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const spki = (k: KeyObject) => k.export({ format: 'der', type: 'spki' }).toString('base64')
const cfg = { publicKey: spki(keys.publicKey) }

const REF = `${'c'.repeat(32)}.${'d'.repeat(12)}`
const now = new Date('2026-03-01T12:00:00Z')
const deps = { now: () => now }
const nowSeconds = String(now.getTime() / 1000)

function signed(body: string, opts: { timestamp?: string; key?: KeyObject } = {}): ProviderRequest {
  const timestamp = opts.timestamp ?? nowSeconds
  const signature = sign('sha256', Buffer.from(timestamp + body), opts.key ?? keys.privateKey).toString('base64')
  return {
    headers: {
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': timestamp,
    },
    rawBody: Buffer.from(body),
  }
}

// Events written after SendGrid's Event Webhook reference; ac_ref is our unique_args custom argument.
const base = (over: Record<string, unknown>) => ({
  email: 'Kirjanpito@Example.FI',
  timestamp: 1772366000,
  'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
  sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
  category: ['invoice'],
  ac_ref: REF,
  ...over,
})
const batch = [
  base({ event: 'processed', sg_event_id: 'ev-processed' }),
  base({
    event: 'bounce',
    type: 'bounce',
    sg_event_id: 'ev-bounce',
    status: '5.1.1',
    reason: '550 5.1.1 No such user\r\n here',
  }),
  base({ event: 'bounce', type: 'blocked', sg_event_id: 'ev-blocked', status: '4.0.0', reason: '421 try later' }),
  base({ event: 'deferred', sg_event_id: 'ev-deferred', response: '400 try again later', attempt: '5' }),
  base({ event: 'dropped', sg_event_id: 'ev-dropped', reason: 'Bounced Address', status: '5.0.0' }),
  base({ event: 'spamreport', sg_event_id: 'ev-spam' }),
  base({ event: 'delivered', sg_event_id: 'ev-delivered', response: '250 OK', ac_ref: undefined }),
  base({ event: 'open', sg_event_id: 'ev-open', useragent: 'Mozilla/4.0' }),
  base({ event: 'click', sg_event_id: 'ev-click', url: 'https://example.com' }),
]
const at = new Date(1772366000 * 1000)
// ref null: the event carries none.
const ev = (eventId: string, kind: string, diagnostic: string, ref: string | null = REF) => ({
  source: 'sendgrid',
  eventId,
  kind,
  ref: ref ?? undefined,
  recipient: 'kirjanpito@example.fi',
  diagnostic,
  at,
})

test('a signed batch gives its bounces, complaints and deliveries, and drops the rest', async () => {
  const result = await verifySendgrid(signed(JSON.stringify(batch)), cfg, deps)
  assert.deepEqual(result, {
    ok: true,
    events: [
      ev('ev-bounce', 'hard_bounce', '550 5.1.1 No such user here'),
      ev('ev-blocked', 'soft_bounce', '421 try later'),
      ev('ev-deferred', 'soft_bounce', '400 try again later'),
      ev('ev-dropped', 'hard_bounce', 'Bounced Address'),
      ev('ev-spam', 'complaint', ''),
      ev('ev-delivered', 'delivered', '250 OK', null),
    ],
  })
})

test('dropped: an address SendGrid will not mail is a hard bounce or a complaint, else a soft bounce', async () => {
  const reasons: Record<string, string> = {
    'Bounced Address': 'hard_bounce',
    Invalid: 'hard_bounce',
    'Spam Reporting Address': 'complaint',
    'Unsubscribed Address': 'soft_bounce',
    'Recipient List over Package Quota': 'soft_bounce',
  }
  const body = JSON.stringify(
    Object.keys(reasons).map((reason, i) => base({ event: 'dropped', reason, sg_event_id: `d${i}` })),
  )
  const result = await verifySendgrid(signed(body), cfg, deps)
  assert.ok(result.ok)
  assert.deepEqual(
    result.events.map((e) => e.kind),
    Object.values(reasons),
  )
})

test('the key may also be given as PEM', async () => {
  const pem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString()
  const result = await verifySendgrid(signed(JSON.stringify(batch)), { publicKey: pem }, deps)
  assert.equal(result.ok && result.events.length, 6)
})

test('a wrong signature, wrong key, tampered body, missing header or stale timestamp is refused with 401', async () => {
  const body = JSON.stringify(batch)
  const good = signed(body)
  const tampered = { ...good, rawBody: Buffer.from(body.replace('ev-bounce', 'ev-bounc3')) }
  const wrongSig = signed(body, { key: other.privateKey })
  const garbage = { ...good, headers: { ...good.headers, 'x-twilio-email-event-webhook-signature': 'bm90IGRlcg==' } }
  const noSig = { ...good, headers: { 'x-twilio-email-event-webhook-timestamp': nowSeconds } }
  const noTs = {
    ...good,
    headers: { 'x-twilio-email-event-webhook-signature': good.headers['x-twilio-email-event-webhook-signature'] },
  }
  // Signed properly, but 301 s old (and 301 s ahead): outside the default 300 s.
  const stale = signed(body, { timestamp: String(Number(nowSeconds) - 301) })
  const future = signed(body, { timestamp: String(Number(nowSeconds) + 301) })
  // A signature over another timestamp than the header's.
  const swapped = { ...signed(body, { timestamp: String(Number(nowSeconds) - 1) }) }
  swapped.headers = { ...swapped.headers, 'x-twilio-email-event-webhook-timestamp': nowSeconds }
  const cases = { tampered, wrongSig, garbage, noSig, noTs, stale, future, swapped }
  for (const [name, req] of Object.entries(cases)) {
    const result = await verifySendgrid(req, cfg, deps)
    assert.equal(result.ok ? 200 : result.status, 401, name)
  }
  const wrongKey = await verifySendgrid(good, { publicKey: spki(other.publicKey) }, deps)
  assert.equal(wrongKey.ok ? 200 : wrongKey.status, 401)
  // 299 s old is within the tolerance.
  const fresh = await verifySendgrid(signed(body, { timestamp: String(Number(nowSeconds) - 299) }), cfg, deps)
  assert.equal(fresh.ok, true)
})

test('a signed body that is not a JSON array, or a bounce without sg_event_id, is refused with 400', async () => {
  for (const body of ['[{"event": "bounce"', '{"event": "bounce"}', JSON.stringify([base({ event: 'bounce' })])]) {
    const result = await verifySendgrid(signed(body), cfg, deps)
    assert.equal(result.ok ? 200 : result.status, 400, body)
  }
})

test('a configured key that is no P-256 public key is a configuration fault, not a 401', async () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  await assert.rejects(verifySendgrid(signed('[]'), { publicKey: spki(rsa.publicKey) }, deps), /P-256/)
})
