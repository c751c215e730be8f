import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'

import { Webhook } from 'standardwebhooks'

import { type HostLookup, isNonPublicAddress } from '../../src/delivery/transports/url-guard.ts'
import { createWebhookTransport } from '../../src/delivery/transports/webhook.transport.ts'
import { newWebhookSecret } from '../../src/delivery/transports/webhook-signature.ts'
import { type ReceivedWebhook, type ReceiverAnswer, startWebhookReceiver } from '../peers/webhook-receiver.ts'

const secret = newWebhookSecret()

function hookTo(url: string, body = JSON.stringify({ type: 'contacts.updated', data: { accountId: 'acme' } })) {
  return { url, secret, msgId: 'msg_2fQx1', timestamp: new Date(), body }
}

async function receiver(t: TestContext, respond?: (req: ReceivedWebhook, n: number) => ReceiverAnswer | null) {
  const r = await startWebhookReceiver(respond ? { respond } : {})
  t.after(() => r.close())
  return r
}

/** A fake DNS that answers `answers[i]` on the i-th call (the last one from then on), and counts calls. */
function fakeDns(...answers: string[][]): HostLookup & { calls: number } {
  const lookup = async (_host: string) => {
    const list = answers[Math.min(lookup.calls++, answers.length - 1)]!
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  lookup.calls = 0
  return lookup
}

test('[webhook] a delivered webhook verifies with standardwebhooks; a tampered body does not', async (t) => {
  const r = await receiver(t)
  const hook = hookTo(r.url)
  const result = await createWebhookTransport({ allowPrivate: true }).send(hook)
  assert.equal(result.ok, true, result.detail)
  const [got] = r.requests
  assert.ok(got)
  assert.equal(got.method, 'POST')
  assert.equal(got.body, hook.body)
  assert.equal(got.headers['content-type'], 'application/json')
  assert.equal(got.headers['user-agent'], 'account-contacts-webhooks/1')
  assert.equal(got.headers['webhook-id'], hook.msgId)
  assert.equal(got.headers['webhook-timestamp'], String(Math.floor(hook.timestamp.getTime() / 1000)))
  assert.deepEqual(new Webhook(secret).verify(got.body, got.headers), JSON.parse(hook.body))
  assert.throws(() => new Webhook(secret).verify(got.body.replace('acme', 'evil'), got.headers))
  assert.throws(() => new Webhook(newWebhookSecret()).verify(got.body, got.headers))
})

test('[webhook] 410 Gone disables the endpoint, for good', async (t) => {
  const r = await receiver(t, () => ({ status: 410 }))
  const result = await createWebhookTransport({ allowPrivate: true }).send(hookTo(r.url))
  assert.equal(result.ok, false)
  assert.equal(result.retryable, false)
  assert.equal(result.disableEndpoint, true)
})

test('[webhook] a 301 is a permanent failure and is not followed', async (t) => {
  const target = await receiver(t)
  const r = await receiver(t, () => ({ status: 301, headers: { location: target.url } }))
  const result = await createWebhookTransport({ allowPrivate: true }).send(hookTo(r.url))
  assert.deepEqual(result, { ok: false, retryable: false, detail: 'redirects are not followed (3xx)' })
  assert.equal(r.requests.length, 1)
  assert.equal(target.requests.length, 0)
})

test('[webhook] 503 with Retry-After: 7 is retryable after 7 s; 429 is retryable', async (t) => {
  const r = await receiver(t, (_req, n) =>
    n === 1 ? { status: 503, headers: { 'retry-after': '7' } } : { status: 429 },
  )
  const transport = createWebhookTransport({ allowPrivate: true })
  const unavailable = await transport.send(hookTo(r.url))
  assert.equal(unavailable.ok, false)
  assert.equal(unavailable.retryable, true)
  assert.equal(unavailable.retryAfterMs, 7000)
  const limited = await transport.send(hookTo(r.url))
  assert.equal(limited.retryable, true)
  assert.equal(limited.retryAfterMs, undefined)
  assert.match(limited.detail, /429/)
})

test('[webhook] other 4xx is permanent; an HTTP-date Retry-After is capped at an hour', async (t) => {
  const later = new Date(Date.now() + 5 * 3600_000).toUTCString()
  const r = await receiver(t, (_req, n) =>
    n === 1 ? { status: 400 } : { status: 429, headers: { 'retry-after': later } },
  )
  const transport = createWebhookTransport({ allowPrivate: true })
  const bad = await transport.send(hookTo(r.url))
  assert.equal(bad.retryable, false)
  assert.equal(bad.disableEndpoint, undefined)
  assert.equal((await transport.send(hookTo(r.url))).retryAfterMs, 3600_000)
})

test('[webhook] a receiver that never answers times out, retryably', async (t) => {
  const r = await receiver(t, () => null)
  const started = Date.now()
  const result = await createWebhookTransport({ allowPrivate: true, timeoutMs: 300 }).send(hookTo(r.url))
  assert.equal(result.ok, false)
  assert.equal(result.retryable, true)
  assert.match(result.detail, /timed out/)
  assert.ok(Date.now() - started < 2000)
})

test('[webhook] a refused connection is retryable', async (t) => {
  const r = await receiver(t)
  await r.close()
  const result = await createWebhookTransport({ allowPrivate: true }).send(hookTo(r.url))
  assert.equal(result.ok, false)
  assert.equal(result.retryable, true)
})

test('[webhook] a loopback URL is refused unless private addresses are allowed', async (t) => {
  const r = await receiver(t)
  const refused = await createWebhookTransport({ allowPrivate: false }).send(hookTo(r.url))
  assert.equal(refused.ok, false)
  assert.equal(refused.retryable, false)
  assert.match(refused.detail, /127\.0\.0\.1/)
  assert.equal(r.requests.length, 0)
  const allowed = await createWebhookTransport({ allowPrivate: true }).send(hookTo(r.url))
  assert.equal(allowed.ok, true)
  assert.equal(r.requests.length, 1)
})

test('[webhook] a host resolving to a private, mapped-loopback or metadata address is refused', async () => {
  for (const address of ['10.0.0.5', '::ffff:127.0.0.1', '169.254.169.254', 'fd00::1', '100.64.0.1', '::']) {
    const lookup = fakeDns([address])
    const result = await createWebhookTransport({ allowPrivate: false, lookup }).send(
      hookTo('https://hooks.example.test/in'),
    )
    assert.equal(result.ok, false, address)
    assert.equal(result.retryable, false, address)
    assert.match(result.detail, /private, loopback or link-local/, address)
  }
})

test('[webhook] the translator forms of a private IPv4 address (IPv4-translated, NAT64, 6to4) are refused; of a public one, allowed', async () => {
  const forms = (v4: string, hex: string) => [
    `::ffff:0:${v4}`,
    `::ffff:0:${hex}`,
    `64:ff9b::${v4}`,
    `64:ff9b::${hex}`,
    `2002:${hex}::`,
    `2002:${hex}:1::5`,
  ]
  for (const address of [
    ...forms('127.0.0.1', '7f00:1'),
    ...forms('10.1.2.3', 'a01:203'),
    ...forms('169.254.169.254', 'a9fe:a9fe'),
  ]) {
    assert.equal(isNonPublicAddress(address), true, address)
    const result = await createWebhookTransport({ allowPrivate: false, lookup: fakeDns([address]) }).send(
      hookTo('https://hooks.example.test/in'),
    )
    assert.equal(result.ok, false, address)
    assert.match(result.detail, /private, loopback or link-local/, address)
  }
  for (const address of [...forms('93.184.216.34', '5db8:d822'), '2001:db8::1', '2606:4700::6810:84e5'])
    assert.equal(isNonPublicAddress(address), false, address)
})

test('[webhook] a URL with credentials or a non-http scheme is refused', async (t) => {
  const r = await receiver(t)
  const transport = createWebhookTransport({ allowPrivate: true })
  const withCreds = await transport.send(hookTo(r.url.replace('http://', 'http://user:pw@')))
  assert.equal(withCreds.retryable, false)
  assert.match(withCreds.detail, /credentials/)
  assert.doesNotMatch(withCreds.detail, /pw/)
  assert.equal((await transport.send(hookTo('file:///etc/passwd'))).retryable, false)
  assert.equal(r.requests.length, 0)
})

test('[webhook] DNS rebinding: any non-public answer refuses the host, and the request reaches nobody', async (t) => {
  const r = await receiver(t)
  // A public address first, loopback second: the client might fall back to the second.
  const lookup = fakeDns(['93.184.215.14', '127.0.0.1'])
  const url = `http://rebind.example.test:${r.port}/hooks`
  const result = await createWebhookTransport({ allowPrivate: false, lookup }).send(hookTo(url))
  assert.equal(result.ok, false)
  assert.equal(result.retryable, false)
  assert.equal(r.requests.length, 0)
})

test('[webhook] DNS rebinding: the connection is pinned to the address that was checked', async (t) => {
  const r = await receiver(t)
  // The first answer (the one checked) is the receiver; any second lookup would answer a port
  // where nothing listens, so only a pinned connection can succeed. Loopback on both sides.
  const lookup = fakeDns(['127.0.0.1'], ['127.0.0.2'])
  const url = `http://rebind.example.test:${r.port}/hooks`
  const result = await createWebhookTransport({ allowPrivate: true, lookup }).send(hookTo(url))
  assert.equal(result.ok, true, result.detail)
  assert.equal(lookup.calls, 1)
  assert.equal(r.requests.length, 1)
  assert.equal(r.requests[0]!.headers.host, `rebind.example.test:${r.port}`)
})

test('[webhook] a huge response body is not buffered: the answer is settled from the status', async (t) => {
  const r = await receiver(t, () => ({ status: 200, body: 'x'.repeat(4 * 1024 * 1024) }))
  const result = await createWebhookTransport({ allowPrivate: true }).send(hookTo(r.url))
  assert.equal(result.ok, true, result.detail)
})
