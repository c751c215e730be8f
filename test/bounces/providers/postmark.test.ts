import assert from 'node:assert/strict'
import { test } from 'node:test'

import { verifyPostmark } from '../../../src/bounces/providers/postmark.ts'
import type { ProviderRequest } from '../../../src/bounces/providers/provider-request.ts'

// Records written after Postmark's webhook documentation (Bounce, SpamComplaint and Delivery
// webhooks), with our reference in Metadata as the X-PM-Metadata-ac-ref header puts it there.
const REF = `${'a'.repeat(32)}.${'b'.repeat(12)}`
const cfg = { username: 'hooks', password: 's3cret-pässword' }
const received = new Date('2026-03-01T12:00:00Z')
const deps = { now: () => received }

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
// null: no Authorization header at all.
const request = (body: unknown, authorization: string | null = basic(cfg.username, cfg.password)) => {
  const req: ProviderRequest = {
    headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
    rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  }
  return req
}

const bounce = (over: Record<string, unknown> = {}) => ({
  RecordType: 'Bounce',
  ID: 7,
  Type: 'HardBounce',
  TypeCode: 1,
  Name: 'Hard bounce',
  MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
  ServerID: 23,
  MessageStream: 'outbound',
  Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
  Details: 'smtp;550 5.1.1 The email account that you tried\nto reach does not exist.',
  Email: 'Laskut@Example.FI',
  From: 'billing@example.com',
  BouncedAt: '2026-03-01T11:58:10.2735393-05:00',
  Inactive: true,
  CanActivate: true,
  Subject: 'Invoice 1042',
  Metadata: { 'ac-ref': REF, invoice: '1042' },
  ...over,
})

test('a hard bounce with good credentials gives one hard_bounce with the metadata reference', async () => {
  // Postmark's IDs are 64-bit (its own examples use this one), past what a JS number holds exactly.
  const body = JSON.stringify(bounce()).replace('"ID":7,', '"ID":4323372036854775807,')
  const result = await verifyPostmark(request(body), cfg, deps)
  assert.deepEqual(result, {
    ok: true,
    events: [
      {
        source: 'postmark',
        eventId: '4323372036854775807',
        kind: 'hard_bounce',
        ref: REF,
        recipient: 'laskut@example.fi',
        diagnostic: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
        at: new Date('2026-03-01T16:58:10.273Z'),
      },
    ],
  })
})

test('bounce types map as documented; the ones that say nothing of the address are dropped', async () => {
  const kinds: Record<string, string | undefined> = {
    HardBounce: 'hard_bounce',
    BadEmailAddress: 'hard_bounce',
    ManuallyDeactivated: 'hard_bounce',
    SoftBounce: 'soft_bounce',
    Transient: 'soft_bounce',
    DnsError: 'soft_bounce',
    SpamNotification: 'soft_bounce',
    AutoResponder: undefined,
    Unsubscribe: undefined,
    ChallengeVerification: undefined,
    TemplateRenderingFailed: undefined,
  }
  for (const [Type, kind] of Object.entries(kinds)) {
    const result = await verifyPostmark(request(bounce({ Type, ID: 7 })), cfg, deps)
    assert.ok(result.ok, Type)
    assert.deepEqual(
      result.events.map((e) => e.kind),
      kind ? [kind] : [],
      Type,
    )
  }
})

test('a spam complaint record is a complaint, whatever its Type says', async () => {
  const complaint = bounce({ RecordType: 'SpamComplaint', ID: 42, Type: 'SpamComplaint', Details: '' })
  const result = await verifyPostmark(request(complaint), cfg, deps)
  assert.ok(result.ok)
  assert.equal(result.events.length, 1)
  assert.equal(result.events[0]!.kind, 'complaint')
  assert.equal(result.events[0]!.eventId, '42')
  assert.equal(
    result.events[0]!.diagnostic,
    'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
  )
})

test('a delivery is keyed by message, record type and recipient', async () => {
  const delivery = {
    RecordType: 'Delivery',
    ServerID: 23,
    MessageStream: 'outbound',
    MessageID: '00000000-0000-0000-0000-000000000001',
    Recipient: 'Billing@Example.com',
    Tag: 'invoice',
    DeliveredAt: '2026-03-01T11:59:00Z',
    Details: 'Test delivery webhook details',
    Metadata: { 'ac-ref': REF },
  }
  const result = await verifyPostmark(request(delivery), cfg, deps)
  assert.deepEqual(result, {
    ok: true,
    events: [
      {
        source: 'postmark',
        eventId: '00000000-0000-0000-0000-000000000001:Delivery:billing@example.com',
        kind: 'delivered',
        ref: REF,
        recipient: 'billing@example.com',
        diagnostic: 'Test delivery webhook details',
        at: new Date('2026-03-01T11:59:00Z'),
      },
    ],
  })
})

test('opens and clicks are dropped, not refused; no metadata means no reference', async () => {
  const open = { RecordType: 'Open', MessageID: 'x', Recipient: 'a@example.com', Metadata: {} }
  assert.deepEqual(await verifyPostmark(request(open), cfg, deps), { ok: true, events: [] })
  const result = await verifyPostmark(request(bounce({ Metadata: undefined, BouncedAt: undefined })), cfg, deps)
  assert.ok(result.ok)
  assert.equal(result.events[0]!.ref, undefined)
  assert.deepEqual(result.events[0]!.at, received)
})

test('wrong, missing or non-Basic credentials are refused with 401', async () => {
  const cases: [string, string | null][] = [
    ['wrong password', basic(cfg.username, 'guess')],
    ['wrong user', basic('admin', cfg.password)],
    ['password prefix', basic(cfg.username, cfg.password.slice(0, -1))],
    ['no colon', `Basic ${Buffer.from(cfg.username + cfg.password).toString('base64')}`],
    ['bearer', `Bearer ${cfg.password}`],
    ['missing', null],
  ]
  for (const [name, authorization] of cases) {
    const result = await verifyPostmark(request(bounce(), authorization), cfg, deps)
    assert.equal(result.ok, false, name)
    assert.equal(!result.ok && result.status, 401, name)
  }
})

test('a body that is not a JSON record, or a bounce without its address, is refused with 400', async () => {
  for (const body of ['{"RecordType": "Bounce",', '[1,2]', JSON.stringify(bounce({ Email: '' }))]) {
    const result = await verifyPostmark(request(body), cfg, deps)
    assert.deepEqual(result.ok ? undefined : result.status, 400, body)
  }
})
