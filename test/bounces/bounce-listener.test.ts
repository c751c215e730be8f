import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import { test, type TestContext } from 'node:test'

import nodemailer from 'nodemailer'

import { type BounceListenerOptions, MAX_CLIENTS, startBounceListener } from '../../src/bounces/bounce-listener.ts'
import type { BounceReport } from '../../src/bounces/dsn.ts'
import { returnPathAddress, signRef, verifyRef } from '../../src/bounces/return-path.ts'
import { createSecretDeriver } from '../../src/lib/derived-secrets.ts'

const BASE = 'bounces@mail.example.com'
const secrets = createSecretDeriver('test-key')
const TOKEN_A = '0123456789abcdef0123456789abcdef'
const TOKEN_B = 'fedcba9876543210fedcba9876543210'
const REF_A = signRef(secrets, TOKEN_A)
const REF_B = signRef(secrets, TOKEN_B)
const AT = new Date('2026-12-02T12:00:00Z')

const fixture = (name: string) => fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url))

type Received = { ref: string; token: string; report: BounceReport; receivedAt: Date }

/** A listener on a free port whose reports and log lines the test reads; closed after the test. */
async function listen(t: TestContext, over: Partial<BounceListenerOptions> = {}) {
  const reports: Received[] = []
  const lines: { level: 'info' | 'warn'; o: object; m: string | undefined }[] = []
  const listener = await startBounceListener({
    port: 0,
    host: '127.0.0.1',
    returnPath: BASE,
    verifyRef: (ref) => verifyRef(secrets, ref),
    onReport: async (r) => void reports.push(r),
    log: {
      info: (o, m) => void lines.push({ level: 'info', o, m }),
      warn: (o, m) => void lines.push({ level: 'warn', o, m }),
    },
    clock: { now: () => AT },
    ...over,
  })
  t.after(() => listener.close())
  return { listener, reports, lines }
}

function send(port: number, to: string | string[], raw: Buffer | string) {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true })
  return transport.sendMail({ envelope: { from: '', to }, raw })
}

test('[bounce-listener] a DSN to a signed return path reaches onReport with its ref, token and recipients', async (t) => {
  const { listener, reports } = await listen(t)
  assert.notEqual(listener.port, 0)
  const info = await send(listener.port, returnPathAddress(BASE, REF_A), fixture('dsn-hard.eml'))
  assert.match(info.response, /^250 Report received/)
  assert.equal(reports.length, 1)
  const [r] = reports
  assert.equal(r!.ref, REF_A)
  assert.equal(r!.token, TOKEN_A)
  assert.equal(r!.receivedAt, AT)
  assert.deepEqual(r!.report.recipients, [
    {
      recipient: 'ana@example.net',
      kind: 'hard_bounce',
      status: '5.1.1',
      diagnostic: '550 5.1.1 <ana@example.net>: Recipient address rejected: no such user here',
    },
  ])
  assert.equal(r!.report.messageId, '<report-hard-1@relay.example.org>')
})

test('[bounce-listener] several recipients: each valid ref once, the forged one refused', async (t) => {
  const { listener, reports } = await listen(t)
  const forged = returnPathAddress(BASE, `${TOKEN_B}.000000000000`)
  const to = [
    returnPathAddress(BASE, REF_A),
    forged,
    // the same reference in upper case, as a server that folds case may send it
    returnPathAddress(BASE, REF_A).toUpperCase(),
    returnPathAddress(BASE, REF_B),
  ]
  const info = await send(listener.port, to, fixture('qmail.eml'))
  assert.deepEqual(info.rejected, [forged])
  assert.deepEqual(
    reports.map((r) => [r.ref, r.token, r.report.recipients.map((x) => x.recipient)]),
    [
      [REF_A, TOKEN_A, ['kim@example.org', 'lee@remote.example']],
      [REF_B, TOKEN_B, ['kim@example.org', 'lee@remote.example']],
    ],
  )
})

test('[bounce-listener] a forged ref or a stranger address is refused with 550 5.1.1, logged by domain only', async (t) => {
  const { listener, reports, lines } = await listen(t)
  const forged = returnPathAddress(BASE, `${TOKEN_A}.000000000000`)
  await assert.rejects(
    send(listener.port, forged, fixture('dsn-hard.eml')),
    (err: { responseCode?: number; response?: string }) => {
      assert.equal(err.responseCode, 550)
      assert.match(err.response ?? '', /^550 5\.1\.1 Recipient refused: reference does not verify/)
      return true
    },
  )
  await assert.rejects(
    send(listener.port, 'someone@mail.example.com', fixture('dsn-hard.eml')),
    (err: { response?: string }) => {
      assert.match(err.response ?? '', /^550 5\.1\.1 Recipient refused: not a bounce address/)
      return true
    },
  )
  assert.equal(reports.length, 0)
  const refused = lines.filter((l) => l.m === 'bounce listener: recipient refused')
  assert.deepEqual(
    refused.map((l) => ({ level: l.level, domain: (l.o as { domain: string }).domain })),
    [
      { level: 'warn', domain: 'mail.example.com' },
      { level: 'warn', domain: 'mail.example.com' },
    ],
  )
  // neither the reference nor the local part is written to the log
  assert.doesNotMatch(JSON.stringify(refused), /000000000000|someone|bounces\+/)
})

test('[bounce-listener] a mail that is no report is taken (250) and logged, onReport not called', async (t) => {
  const { listener, reports, lines } = await listen(t)
  const info = await send(listener.port, returnPathAddress(BASE, REF_A), fixture('autoreply.eml'))
  assert.match(info.response, /^250 Accepted \(not a report\)/)
  assert.equal(reports.length, 0)
  assert.deepEqual(
    lines.map((l) => [l.level, l.m]),
    [['info', 'bounce listener: not a bounce report, dropped']],
  )
})

test('[bounce-listener] a message over maxBytes is refused with 552', async (t) => {
  const { listener, reports } = await listen(t, { maxBytes: 4096 })
  const big = fixture('dsn-soft-quota.eml').toString('utf8').replace('Hello Bo', 'x'.repeat(20_000))
  await assert.rejects(send(listener.port, returnPathAddress(BASE, REF_A), big), (err: { responseCode?: number }) => {
    assert.equal(err.responseCode, 552)
    return true
  })
  assert.equal(reports.length, 0)
  // one just under the limit still goes through
  const info = await send(listener.port, returnPathAddress(BASE, REF_A), fixture('dsn-soft-quota.eml'))
  assert.match(info.response, /^250/)
  assert.equal(reports.length, 1)
})

test('[bounce-listener] when onReport throws, the sender gets 451 4.3.0 and may retry', async (t) => {
  let fail = true
  const taken: string[] = []
  const { listener, lines } = await listen(t, {
    onReport: async (r) => {
      if (fail) throw new Error('database down')
      taken.push(r.token)
    },
  })
  const to = returnPathAddress(BASE, REF_A)
  await assert.rejects(
    send(listener.port, to, fixture('arf.eml')),
    (err: { responseCode?: number; response?: string }) => {
      assert.equal(err.responseCode, 451)
      assert.match(err.response ?? '', /^451 4\.3\.0 /)
      return true
    },
  )
  assert.ok(lines.some((l) => l.level === 'warn' && l.m === 'bounce listener: the report could not be taken'))
  fail = false
  await send(listener.port, to, fixture('arf.eml'))
  assert.deepEqual(taken, [TOKEN_A])
})

test('[bounce-listener] STARTTLS is offered only with a key and certificate', async (t) => {
  const ehlo = async (port: number) => {
    const socket = net.connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => {
      text += d
      if (/^220 /m.test(text) && !text.includes('EHLO sent')) {
        text += '\nEHLO sent\n'
        socket.write('EHLO test.example\r\n')
      }
    })
    while (!/^250 /m.test(text.split('EHLO sent')[1] ?? '')) await once(socket, 'data')
    socket.end('QUIT\r\n')
    return text
  }
  const plain = await listen(t)
  const tls = await listen(t, {
    tls: { key: fixture('tls-key.pem'), cert: fixture('tls-cert.pem') },
  })
  assert.doesNotMatch(await ehlo(plain.listener.port), /STARTTLS/)
  assert.doesNotMatch(await ehlo(plain.listener.port), /AUTH/)
  assert.match(await ehlo(tls.listener.port), /250[- ]STARTTLS/)
  // and the upgrade works with that pair
  const secure = nodemailer.createTransport({
    host: '127.0.0.1',
    port: tls.listener.port,
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
  })
  const info = await secure.sendMail({
    envelope: { from: '', to: returnPathAddress(BASE, REF_A) },
    raw: fixture('dsn-hard.eml'),
  })
  assert.match(info.response, /^250 Report received/)
  assert.equal(tls.reports.length, 1)
})

test('[bounce-listener] close() stops accepting and ends an idle session', async (t) => {
  const { listener } = await listen(t)
  const idle = net.connect(listener.port, '127.0.0.1')
  await once(idle, 'data') // the greeting
  const closed = once(idle, 'close')
  const started = performance.now()
  await listener.close()
  await closed
  assert.ok(performance.now() - started < 5000)
  const refused = net.connect(listener.port, '127.0.0.1')
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException]
  assert.equal(err.code, 'ECONNREFUSED')
})

test('[bounce-listener] past MAX_CLIENTS open sessions, one more is answered 421 and closed; a freed place is taken again', async (t) => {
  const { listener } = await listen(t)
  /** A raw connection and the first reply it reads (its greeting, or the refusal). */
  const connect = async () => {
    const socket = net.connect(listener.port, '127.0.0.1')
    socket.setEncoding('utf8')
    t.after(() => socket.destroy())
    const [first] = (await once(socket, 'data')) as [string]
    return { socket, first }
  }
  const open = []
  for (let i = 0; i < MAX_CLIENTS; i++) open.push(await connect())
  assert.ok(open.every((c) => c.first.startsWith('220 ')))
  const over = await connect()
  assert.match(over.first, /^421 .*Too many connected clients/)
  if (!over.socket.closed) await once(over.socket, 'close')
  // a session that ends frees its place (the server counts it gone once it sees the close)
  const ended = once(open[0]!.socket, 'close')
  open[0]!.socket.end('QUIT\r\n')
  await ended
  let again = await connect()
  for (let i = 0; i < 50 && !again.first.startsWith('220 '); i++) {
    await new Promise((r) => setTimeout(r, 20))
    again = await connect()
  }
  assert.match(again.first, /^220 /)
})
