import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import type { ProviderRequest } from '../../../src/bounces/providers/provider-request.ts'
import { createSesVerifier, type SesConfig } from '../../../src/bounces/providers/ses.ts'
import { isAllowedSnsUrl } from '../../../src/bounces/providers/sns-certificates.ts'

const REF = `${'1'.repeat(32)}.${'2'.repeat(12)}`
const TOPIC = 'arn:aws:sns:eu-north-1:123456789012:ses-events'
// The certificate openssl makes is valid from its making for a day, so the test's clock is the real
// time once it is made.
let now: Date

// A signing key and self-signed certificate, made by openssl as SNS's would be; served over local
// HTTP, as the certUrlPrefixes allowance lets a test do.
let dir: string
let keyPem: string
let base: string
let fetches: string[] = []
const server = createServer((req, res) => {
  if (req.url === '/slow.pem') return // never answers: the fetch must time out
  if (req.url !== '/cert.pem') return void res.writeHead(404).end()
  res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(readFileSync(join(dir, 'cert.pem')))
})

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sns-test-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ].concat(['-days', '1', '-subj', '/CN=sns.test']),
    { stdio: 'ignore' },
  )
  keyPem = readFileSync(join(dir, 'key.pem'), 'utf8')
  now = new Date()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
after(() => {
  server.closeAllConnections()
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

function verifier(over: Partial<SesConfig> = {}) {
  fetches = []
  const countingFetch: typeof fetch = (input, init) => {
    fetches.push(String(input))
    return fetch(input, init)
  }
  const cfg: SesConfig = { topicArns: [TOPIC], certUrlPrefixes: [base], certTimeoutMs: 300, ...over }
  return createSesVerifier(cfg, { now: () => now, fetch: countingFetch })
}

/**
 * An SNS message signed as AWS's guide describes: "name\nvalue\n" for each signed field in order,
 * Subject only when present; confirmations sign SubscribeURL and Token instead.
 */
function snsMessage(fields: Record<string, string | undefined>, opts: { version?: '1' | '2'; key?: string } = {}) {
  const m: Record<string, string | undefined> = {
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: TOPIC,
    Timestamp: now.toISOString(),
    SignatureVersion: opts.version ?? '2',
    SigningCertURL: `${base}cert.pem`,
    ...fields,
  }
  const names =
    m.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type']
  const canonical = names
    .filter((n) => m[n] !== undefined)
    .map((n) => `${n}\n${m[n]}\n`)
    .join('')
  const digest = (opts.version ?? '2') === '1' ? 'sha1' : 'sha256'
  m.Signature = sign(digest, Buffer.from(canonical), opts.key ?? keyPem).toString('base64')
  return m
}
const notification = (message: unknown, extra: Record<string, string> = {}, opts = {}) =>
  snsMessage({ Type: 'Notification', Message: JSON.stringify(message), ...extra }, opts)
const request = (body: unknown): ProviderRequest => ({
  headers: { 'x-amz-sns-message-type': 'Notification', 'content-type': 'text/plain; charset=UTF-8' },
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
})

// SES notifications written after its "notification contents" and event publishing pages.
const mail = (over: Record<string, unknown> = {}) => ({
  timestamp: '2026-03-01T11:59:00.000Z',
  messageId: '0102018e0000abcd-00000000-0000-0000-0000-000000000000-000000',
  source: `Laskutus <bounces+${REF}@mail.example.com>`,
  destination: ['a@example.fi', 'b@example.fi'],
  headersTruncated: false,
  ...over,
})
const permanentBounce = {
  notificationType: 'Bounce',
  bounce: {
    bounceType: 'Permanent',
    bounceSubType: 'General',
    bouncedRecipients: [
      {
        emailAddress: 'A@Example.FI',
        action: 'failed',
        status: '5.1.1',
        diagnosticCode: 'smtp; 550 5.1.1 user unknown',
      },
      { emailAddress: 'b@example.fi', action: 'failed', status: '5.1.2' },
    ],
    timestamp: '2026-03-01T12:00:01.500Z',
    feedbackId: '0102018e-feedback',
    reportingMTA: 'dsn; a1-2.smtp-out.eu-north-1.amazonses.com',
  },
  mail: mail(),
}
const MESSAGE_ID = '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324'

test('a signed SES bounce (SignatureVersion 1, with a Subject) gives one hard_bounce per recipient', async () => {
  const verify = verifier()
  const body = notification(permanentBounce, { Subject: 'Amazon SES Email Event Notification' }, { version: '1' })
  const at = new Date('2026-03-01T12:00:01.500Z')
  assert.deepEqual(await verify(request(body)), {
    ok: true,
    events: [
      {
        source: 'ses',
        eventId: `${MESSAGE_ID}:a@example.fi`,
        kind: 'hard_bounce',
        ref: REF,
        recipient: 'a@example.fi',
        diagnostic: 'smtp; 550 5.1.1 user unknown',
        at,
      },
      {
        source: 'ses',
        eventId: `${MESSAGE_ID}:b@example.fi`,
        kind: 'hard_bounce',
        ref: REF,
        recipient: 'b@example.fi',
        diagnostic: 'failed 5.1.2',
        at,
      },
    ],
  })
  assert.deepEqual(fetches, [`${base}cert.pem`])
  // The certificate is cached by URL: a second message fetches nothing.
  assert.equal((await verify(request(body))).ok, true)
  assert.equal(fetches.length, 1)
})

test('event publishing form (eventType), SignatureVersion 2: complaint with the reference from the headers', async () => {
  const verify = verifier()
  const complaint = {
    eventType: 'Complaint',
    complaint: {
      complainedRecipients: [{ emailAddress: 'c@example.fi' }],
      timestamp: '2026-03-01T12:05:00.000Z',
      feedbackId: 'f-1',
      complaintFeedbackType: 'abuse',
    },
    mail: mail({
      source: 'no-reply@mail.example.com',
      headers: [
        { name: 'From', value: 'no-reply@mail.example.com' },
        { name: 'x-account-contacts-ref', value: ` ${REF} ` },
      ],
    }),
  }
  assert.deepEqual(await verify(request(notification(complaint))), {
    ok: true,
    events: [
      {
        source: 'ses',
        eventId: `${MESSAGE_ID}:c@example.fi`,
        kind: 'complaint',
        ref: REF,
        recipient: 'c@example.fi',
        diagnostic: 'abuse',
        at: new Date('2026-03-01T12:05:00.000Z'),
      },
    ],
  })
})

test('deliveries, transient and undetermined bounces map; other event types are dropped', async () => {
  const verify = verifier()
  const delivery = {
    notificationType: 'Delivery',
    delivery: { timestamp: '2026-03-01T12:00:02Z', recipients: ['D@example.fi'], smtpResponse: '250 2.0.0 OK' },
    mail: mail({ source: 'no-reply@mail.example.com' }),
  }
  const got = await verify(request(notification(delivery)))
  assert.deepEqual(got.ok && got.events.map((e) => [e.kind, e.recipient, e.ref, e.diagnostic]), [
    ['delivered', 'd@example.fi', undefined, '250 2.0.0 OK'],
  ])
  for (const [bounceType, kind] of [
    ['Transient', 'soft_bounce'],
    ['Undetermined', 'soft_bounce'],
  ]) {
    const bounce = { ...permanentBounce, bounce: { ...permanentBounce.bounce, bounceType } }
    const result = await verify(request(notification(bounce)))
    assert.deepEqual(result.ok && result.events.map((e) => e.kind), [kind, kind], bounceType)
  }
  for (const eventType of ['Send', 'Open', 'Click', 'DeliveryDelay', 'Reject']) {
    assert.deepEqual(await verify(request(notification({ eventType, mail: mail() }))), { ok: true, events: [] })
  }
})

test('a signed SubscriptionConfirmation gives its SubscribeURL; an UnsubscribeConfirmation nothing', async () => {
  const verify = verifier()
  const subscribeUrl = `${base}?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=abc`
  const confirmation = snsMessage({
    Type: 'SubscriptionConfirmation',
    Token: 'abc',
    SubscribeURL: subscribeUrl,
    Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
  })
  assert.deepEqual(await verify(request(confirmation)), { ok: true, events: [], subscribeUrl })
  const unsubscribe = snsMessage({
    Type: 'UnsubscribeConfirmation',
    Token: 'abc',
    SubscribeURL: subscribeUrl,
    Message: 'bye',
  })
  assert.deepEqual(await verify(request(unsubscribe)), { ok: true, events: [] })
  // Signed by "SNS", but pointing elsewhere: not visited.
  const elsewhere = snsMessage({
    Type: 'SubscriptionConfirmation',
    Token: 'abc',
    SubscribeURL: 'https://evil.example/confirm',
    Message: 'x',
  })
  assert.deepEqual(await verify(request(elsewhere)), { ok: false, status: 401, reason: 'SubscribeURL not allowed' })
})

test('a foreign topic, tampering, another key, a disallowed certificate URL or an old message is refused with 401', async () => {
  const verify = verifier()
  const good = notification(permanentBounce)
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  })
  const cases: Record<string, Record<string, string | undefined>> = {
    foreignTopic: notification(permanentBounce, { TopicArn: 'arn:aws:sns:eu-north-1:999999999999:other' }),
    tamperedMessage: { ...good, Message: good.Message!.replace('Permanent', 'Transient') },
    tamperedSubject: { ...good, Subject: 'added after signing' },
    otherKey: notification(permanentBounce, {}, { key: otherKey.toString() }),
    // Signed over SHA-256, claimed to be SHA-1.
    wrongVersion: { ...good, SignatureVersion: '1' },
    unknownVersion: { ...good, SignatureVersion: '3' },
    unsigned: { ...good, Signature: undefined },
    httpSnsHost: notification(permanentBounce, { SigningCertURL: 'http://sns.eu-north-1.amazonaws.com/cert.pem' }),
    lookAlikeHost: notification(permanentBounce, {
      SigningCertURL: 'https://sns.eu-north-1.amazonaws.com.evil.example/c.pem',
    }),
    certMissing: notification(permanentBounce, { SigningCertURL: `${base}missing.pem` }),
    certTimesOut: notification(permanentBounce, { SigningCertURL: `${base}slow.pem` }),
    old: notification(permanentBounce, { Timestamp: new Date(now.getTime() - 3601_000).toISOString() }),
  }
  for (const [name, body] of Object.entries(cases)) {
    const result = await verify(request(body))
    assert.equal(result.ok ? 200 : result.status, 401, name)
  }
  // Only the allowed URLs were fetched (the cached good one is not among the cases).
  assert.deepEqual(fetches.sort(), [`${base}cert.pem`, `${base}missing.pem`, `${base}slow.pem`])
  // A tighter window refuses what the default would take.
  const tight = verifier({ maxAgeSeconds: 60 })
  const minutesOld = notification(permanentBounce, { Timestamp: new Date(now.getTime() - 120_000).toISOString() })
  assert.equal((await tight(request(minutesOld))).ok, false)
  assert.equal((await verifier()(request(minutesOld))).ok, true)
})

test('a body that is not an SNS message, or a signed Message that is not SES JSON, is refused with 400', async () => {
  const verify = verifier()
  const cases: Record<string, unknown> = {
    notJson: '{"Type": "Notification"',
    unknownType: { ...notification(permanentBounce), Type: 'Other' },
    noMessageId: { ...notification(permanentBounce), MessageId: undefined },
    messageNotJson: snsMessage({ Type: 'Notification', Message: 'not json' }),
    recipientsMissing: notification({ notificationType: 'Bounce', bounce: { bounceType: 'Permanent' }, mail: mail() }),
  }
  for (const [name, body] of Object.entries(cases)) {
    const result = await verify(request(body))
    assert.equal(result.ok ? 200 : result.status, 400, name)
  }
})

test('certificate URLs: https on sns.<region>.amazonaws.com(.cn) only, or a configured prefix', () => {
  const allowed = [
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem',
    'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-0123.pem',
  ]
  const refused = [
    'http://sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com:8443/x.pem',
    'https://user@sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com.evil.example/x.pem',
    'https://evil.example/sns.us-east-1.amazonaws.com/x.pem',
    'https://sqs.us-east-1.amazonaws.com/x.pem',
    'not a url',
  ]
  for (const url of allowed) assert.equal(isAllowedSnsUrl(url), true, url)
  for (const url of refused) assert.equal(isAllowedSnsUrl(url), false, url)
  assert.equal(isAllowedSnsUrl('http://127.0.0.1:9/cert.pem', ['http://127.0.0.1:9/']), true)
  assert.equal(isAllowedSnsUrl('http://127.0.0.1:90/cert.pem', ['http://127.0.0.1:9/']), false)
})

test('a configuration without topics is refused at creation', () => {
  assert.throws(() => createSesVerifier({ topicArns: [] }, { now: () => now }), /topic/)
})
