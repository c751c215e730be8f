import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { test } from 'node:test'

import { createMailgunVerifier } from '../../../src/bounces/providers/mailgun.ts'
import type { ProviderRequest } from '../../../src/bounces/providers/provider-request.ts'
import { createSeenTokens } from '../../../src/bounces/providers/seen-tokens.ts'

const REF = `${'e'.repeat(32)}.${'f'.repeat(12)}`
const cfg = { signingKey: 'key-test-signing-0123456789abcdef' }
const start = new Date('2026-03-01T12:00:00Z')

/** A verifier whose clock the test moves. */
function verifier(over: Partial<typeof cfg & { maxSeenTokens: number }> = {}) {
  const clock = { now: start }
  const verify = createMailgunVerifier({ ...cfg, ...over }, { now: () => clock.now })
  return { verify, clock }
}

// Webhook bodies written after Mailgun's webhook and event documentation.
function body(eventData: Record<string, unknown>, opts: { timestamp?: number; token?: string; key?: string } = {}) {
  const timestamp = String(opts.timestamp ?? start.getTime() / 1000)
  const token = opts.token ?? randomBytes(25).toString('hex')
  const signature = createHmac('sha256', opts.key ?? cfg.signingKey)
    .update(timestamp + token)
    .digest('hex')
  return { signature: { timestamp, token, signature }, 'event-data': eventData }
}
const request = (b: unknown): ProviderRequest => ({
  headers: { 'content-type': 'application/json' },
  rawBody: Buffer.from(typeof b === 'string' ? b : JSON.stringify(b)),
})

const failed = (over: Record<string, unknown> = {}) => ({
  id: 'G9Bn5sl1TC6nu79C8C0bwg',
  timestamp: 1772366400.123,
  event: 'failed',
  severity: 'permanent',
  reason: 'bounce',
  recipient: 'Talous@Example.FI',
  envelope: { sender: 'bounces+other@mail.example.com', targets: 'talous@example.fi', transport: 'smtp' },
  'user-variables': { ac_ref: REF },
  'delivery-status': {
    code: 550,
    message: '5.1.1 The email account that you tried to reach does not exist.',
    description: '',
    'attempt-no': 1,
  },
  message: { headers: { 'message-id': '20260301120000.1.ABC@mail.example.com', subject: 'Invoice 7' } },
  ...over,
})

test('a permanent failure gives a hard_bounce with the user-variables reference', async () => {
  const { verify } = verifier()
  assert.deepEqual(await verify(request(body(failed()))), {
    ok: true,
    events: [
      {
        source: 'mailgun',
        eventId: 'G9Bn5sl1TC6nu79C8C0bwg',
        kind: 'hard_bounce',
        ref: REF,
        recipient: 'talous@example.fi',
        diagnostic: '550 5.1.1 The email account that you tried to reach does not exist.',
        at: new Date(1772366400123),
      },
    ],
  })
})

test('temporary failures, complaints and deliveries map; the envelope gives the reference when no variable does', async () => {
  const { verify } = verifier()
  const temp = await verify(
    request(
      body(failed({ id: 't1', severity: 'temporary', 'delivery-status': { code: 452, message: 'Mailbox full' } })),
    ),
  )
  assert.deepEqual(temp.ok && temp.events.map((e) => [e.kind, e.diagnostic]), [['soft_bounce', '452 Mailbox full']])

  const complained = await verify(
    request(body({ id: 'c1', event: 'complained', recipient: 'a@example.fi', timestamp: 1772366401 })),
  )
  assert.deepEqual(complained.ok && complained.events, [
    {
      source: 'mailgun',
      eventId: 'c1',
      kind: 'complaint',
      ref: undefined,
      recipient: 'a@example.fi',
      diagnostic: '',
      at: new Date(1772366401000),
    },
  ])

  const delivered = failed({
    id: 'd1',
    event: 'delivered',
    severity: undefined,
    'user-variables': {},
    envelope: { sender: `bounces+${REF}@mail.example.com` },
    'delivery-status': { code: 250, message: 'OK' },
  })
  const result = await verify(request(body(delivered)))
  assert.deepEqual(result.ok && result.events.map((e) => [e.kind, e.ref, e.diagnostic]), [['delivered', REF, '250 OK']])

  // A suppressed address: no delivery status, Mailgun's reason only.
  const suppressed = await verify(request(body(failed({ id: 's1', reason: 'suppress-bounce', 'delivery-status': {} }))))
  assert.deepEqual(suppressed.ok && suppressed.events.map((e) => e.diagnostic), ['suppress-bounce'])
})

test('opens, clicks and accepted events are dropped, not refused', async () => {
  const { verify } = verifier()
  for (const event of ['opened', 'clicked', 'accepted', 'unsubscribed']) {
    assert.deepEqual(await verify(request(body(failed({ event })))), { ok: true, events: [] }, event)
  }
})

test('a wrong key, a tampered token, a missing signature or an old timestamp is refused with 401', async () => {
  const { verify } = verifier()
  const good = body(failed())
  const tampered = { ...good, signature: { ...good.signature, token: good.signature.token.replace(/.$/, 'x') } }
  const cases: Record<string, unknown> = {
    wrongKey: body(failed(), { key: 'key-someone-else' }),
    tampered,
    notHex: { ...good, signature: { ...good.signature, signature: 'z'.repeat(64) } },
    noSignature: { 'event-data': failed() },
    old: body(failed(), { timestamp: start.getTime() / 1000 - 301 }),
    future: body(failed(), { timestamp: start.getTime() / 1000 + 301 }),
  }
  for (const [name, b] of Object.entries(cases)) {
    const result = await verify(request(b))
    assert.equal(result.ok ? 200 : result.status, 401, name)
  }
})

test('a token is taken once: the same signed request again is refused with 401', async () => {
  const { verify, clock } = verifier()
  const once = body(failed())
  assert.equal((await verify(request(once))).ok, true)
  clock.now = new Date(start.getTime() + 60_000)
  const again = await verify(request(once))
  assert.deepEqual(again, { ok: false, status: 401, reason: 'Mailgun token replayed' })
  // Another token with the same event is a new request (the caller de-duplicates by eventId).
  assert.equal((await verify(request(body(failed(), { timestamp: start.getTime() / 1000 + 60 })))).ok, true)
})

test('a body that is not JSON is refused with 400', async () => {
  const { verify } = verifier()
  for (const b of ['{"signature": ', '"text"']) {
    const result = await verify(request(b))
    assert.equal(result.ok ? 200 : result.status, 400, b)
  }
})

test('seen tokens expire, and no more than the limit are kept', () => {
  const seen = createSeenTokens(2)
  assert.equal(seen.claim('a', 1000, 0), true)
  assert.equal(seen.claim('a', 1000, 500), false)
  assert.equal(seen.claim('a', 2000, 1000), true, 'expired, so taken afresh')
  assert.equal(seen.claim('b', 3000, 1000), true)
  assert.equal(seen.claim('c', 3000, 1000), true)
  // 'a' was the oldest of three: it went to keep two.
  assert.equal(seen.claim('a', 3000, 1000), true)
  assert.equal(seen.claim('c', 3000, 1000), false)
})
