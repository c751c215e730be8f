import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'

import { type AddressObject, simpleParser } from 'mailparser'
import nodemailer from 'nodemailer'

import { createEmlTransport, listEmlFiles } from '../../src/delivery/transports/eml.transport.ts'
import {
  createSmtpTransport,
  resultFromError,
  SMTP_SAFETY_OPTIONS,
} from '../../src/delivery/transports/smtp.transport.ts'
import type { EmailTransport, OutgoingEmail } from '../../src/delivery/transports/transport.ts'
import { type SmtpSinkOptions, startSmtpSink } from '../peers/smtp-sink.ts'

let seq = 0
const mail = (over: Partial<OutgoingEmail> = {}): OutgoingEmail => ({
  messageId: `<d${++seq}.${Date.now()}@account-contacts.test>`,
  from: 'Tilitiimi <no-reply@example.fi>',
  to: { email: 'aiti@example.fi', name: 'Äiti Öljynen' },
  subject: 'Yhteyshenkilöt päivitetty – tarkista tiedot',
  text: 'Hei Äiti,\nlaskutuksen yhteyshenkilö on nyt sinä.',
  headers: { 'X-Account-Contacts-Category': 'billing' },
  ...over,
})

const firstTo = (to: AddressObject | AddressObject[] | undefined) => (Array.isArray(to) ? to[0] : to)?.value[0]

/** A sink and an SMTP transport to it, both closed when the test ends (transport first: it holds the pool). */
async function smtpPair(t: TestContext, sinkOpts: SmtpSinkOptions = {}) {
  const sink = await startSmtpSink(sinkOpts)
  const transport = createSmtpTransport({ url: sink.url })
  t.after(async () => {
    await transport.close()
    await sink.close()
  })
  return { sink, transport }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then freed). */
async function closedPort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1')
  await new Promise((r) => srv.once('listening', r))
  const { port } = srv.address() as { port: number }
  await new Promise((r) => srv.close(r))
  return port
}

test('[smtp] a mail arrives with the exact Message-ID, subject, text and UTF-8 names', async (t) => {
  const { sink, transport } = await smtpPair(t)
  const m = mail()
  const res = await transport.send(m)
  assert.equal(res.ok, true, res.detail)
  assert.equal(res.retryable, false)
  assert.match(res.detail, /^250 /)
  assert.doesNotMatch(res.detail, /[\r\n]/)

  await sink.waitFor(1)
  const got = sink.messages[0]!
  assert.equal(got.messageId, m.messageId)
  assert.equal(got.subject, m.subject)
  assert.equal(got.text?.trim(), m.text)
  assert.deepEqual(firstTo(got.to), { address: 'aiti@example.fi', name: 'Äiti Öljynen' })
  assert.equal(got.from?.value[0]?.name, 'Tilitiimi')
  assert.equal(got.headers.get('x-account-contacts-category'), 'billing')
})

test('[smtp] 451 is retryable, and the next attempt goes through', async (t) => {
  const { sink, transport } = await smtpPair(t, {
    respond: (_rcpt, attempt) => (attempt === 1 ? { code: 451, message: '4.3.0 try later' } : undefined),
  })
  const m = mail()
  const first = await transport.send(m)
  assert.equal(first.ok, false)
  assert.equal(first.retryable, true)
  assert.equal(first.recipientRejected, undefined)
  assert.match(first.detail, /451 4\.3\.0 try later/)

  const second = await transport.send(m)
  assert.equal(second.ok, true, second.detail)
  await sink.waitFor(1)
  assert.equal(sink.messages[0]!.messageId, m.messageId)
})

for (const at of ['rcpt', 'data'] as const) {
  test(`[smtp] 550 5.1.1 at ${at === 'rcpt' ? 'RCPT TO' : 'end of DATA'} is permanent and rejects the recipient`, async (t) => {
    const { sink, transport } = await smtpPair(t, {
      respond: () => ({ code: 550, message: '5.1.1 <aiti@example.fi>: user unknown', at }),
    })
    const res = await transport.send(mail())
    assert.equal(res.ok, false)
    assert.equal(res.retryable, false)
    assert.equal(res.recipientRejected, true)
    assert.match(res.detail, /550 5\.1\.1/)
    assert.equal(sink.received(), 0)
  })
}

test('[smtp] a policy 5xx (5.7.x) is permanent but does not blame the mailbox', async (t) => {
  const { transport } = await smtpPair(t, {
    respond: (_rcpt, attempt) =>
      attempt === 1
        ? { code: 550, message: '5.7.1 relaying denied' }
        : { code: 554, message: '5.7.1 message content rejected', at: 'data' },
  })
  for (const expected of [/550 5\.7\.1 relaying/, /554 5\.7\.1 message content/]) {
    const res = await transport.send(mail())
    assert.deepEqual({ ...res, detail: undefined }, { ok: false, retryable: false, detail: undefined })
    assert.match(res.detail, expected)
  }
})

test('[smtp] connection refused is retryable and never shows the password', async (t) => {
  const port = await closedPort()
  const transport = createSmtpTransport({ url: `smtp://mailer:s3cret-Pa55@127.0.0.1:${port}` })
  t.after(() => transport.close())
  const res = await transport.send(mail())
  assert.equal(res.ok, false)
  assert.equal(res.retryable, true)
  assert.match(res.detail, /ECONNREFUSED/)
  assert.doesNotMatch(res.detail, /s3cret/)
})

test('[smtp] a server that never greets is retryable after the send deadline', async (t) => {
  const sockets = new Set<Socket>()
  const silent = createServer((s) => sockets.add(s)).listen(0, '127.0.0.1')
  await new Promise((r) => silent.once('listening', r))
  const { port } = silent.address() as { port: number }
  const transport = createSmtpTransport({ url: `smtp://127.0.0.1:${port}`, sendDeadlineMs: 300 })
  t.after(async () => {
    await transport.close()
    for (const s of sockets) s.destroy()
    await new Promise((r) => silent.close(r))
  })
  const started = Date.now()
  const res = await transport.send(mail())
  assert.equal(res.ok, false)
  assert.equal(res.retryable, true)
  assert.match(res.detail, /deadline/)
  assert.ok(Date.now() - started < 5_000)
})

test('[smtp] CR/LF in the subject, the name or a header value injects no header and no recipient', async (t) => {
  const rcpts: string[] = []
  const { sink, transport } = await smtpPair(t, {
    respond: (rcpt) => {
      rcpts.push(rcpt)
      return undefined
    },
  })
  const res = await transport.send(
    mail({
      subject: 'Hei\r\nBcc: evil@example.com',
      to: { email: 'aiti@example.fi', name: 'Äiti\r\nX-Injected: name' },
      headers: { 'X-Account-Contacts-Category': 'billing\r\nX-Injected: header\r\n\r\nbody' },
    }),
  )
  assert.equal(res.ok, true, res.detail)
  await sink.waitFor(1)
  const got = sink.messages[0]!
  assert.deepEqual(rcpts, ['aiti@example.fi'])
  assert.equal(got.headers.has('x-injected'), false)
  assert.equal(got.headers.has('bcc'), false)
  assert.ok(got.headerLines.every((h) => !/^x-injected$/i.test(h.key)))
  assert.doesNotMatch(got.subject ?? '', /[\r\n]/)
  assert.doesNotMatch(String(got.headers.get('x-account-contacts-category')), /[\r\n]/)
  assert.equal(got.text?.trim(), mail().text)
})

test('[smtp] a header name or address that could inject is refused for good, before any connection', async () => {
  // Nothing listens on port 9: reaching the network would give a retryable result instead.
  const transport = createSmtpTransport({ url: 'smtp://127.0.0.1:9' })
  try {
    for (const bad of [
      mail({ headers: { 'X-A\r\nBcc': 'evil@example.com' } }),
      mail({ headers: { Bcc: 'evil@example.com' } }),
      mail({ to: { email: 'aiti@example.fi, evil@example.com' } }),
      mail({ to: { email: 'aiti@example.fi\r\nRCPT TO:<evil@example.com>' } }),
      mail({ messageId: 'no-brackets@example.fi' }),
    ]) {
      const res = await transport.send(bad)
      assert.equal(res.ok, false)
      assert.equal(res.retryable, false, res.detail)
    }
  } finally {
    await transport.close()
  }
})

test('[smtp] SMTP_URL is checked: ?options (which would override the sandbox) and bad URLs throw without echoing it', () => {
  assert.throws(() => createSmtpTransport({ url: 'smtp://127.0.0.1:25?disableFileAccess=false' }), /must not carry/)
  assert.throws(() => createSmtpTransport({ url: 'http://127.0.0.1' }), /smtp:\/\/ or smtps:\/\//)
  assert.throws(
    () => createSmtpTransport({ url: 'smtp://u:s3cret@bad host' }),
    (err: Error) => !err.message.includes('s3cret'),
  )
})

test('[smtp] file and URL access are off: nodemailer refuses them, and an html file:// src is sent as text', async (t) => {
  assert.deepEqual({ ...SMTP_SAFETY_OPTIONS }, { disableFileAccess: true, disableUrlAccess: true })
  assert.ok(Object.isFrozen(SMTP_SAFETY_OPTIONS))

  // What the options buy, on this nodemailer version: content by path or URL is refused.
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, ...SMTP_SAFETY_OPTIONS })
  const base = { from: 'a@example.fi', to: 'b@example.fi', text: 'x' }
  for (const [attachment, code] of [
    [{ path: '/etc/passwd' }, 'EFILEACCESS'],
    [{ href: 'http://127.0.0.1:9/secret' }, 'EURLACCESS'],
  ] as const) {
    const err = await composer.sendMail({ ...base, attachments: [attachment] }).then(
      () => assert.fail('content was read'),
      (e: { code?: string }) => e,
    )
    assert.equal(err.code, code)
    assert.equal(resultFromError(err).retryable, false)
  }

  const { sink, transport } = await smtpPair(t)
  const html = '<p>Hei</p><img src="file:///etc/passwd">'
  assert.equal((await transport.send(mail({ html }))).ok, true)
  await sink.waitFor(1)
  const got = sink.messages[0]!
  assert.equal(got.attachments.length, 0)
  assert.match(String(got.html), /src="file:\/\/\/etc\/passwd"/)
  assert.doesNotMatch(String(got.html), /root:/)
})

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eml-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function emlTransport(t: TestContext, dir: string, clock?: { now(): Date }): EmailTransport {
  const transport = createEmlTransport({ dir, clock })
  t.after(() => transport.close())
  return transport
}

test('[eml] a mail is written atomically as a .eml file that parses back', async (t) => {
  const dir = join(await tempDir(t), 'mail') // not there yet: the transport creates it
  const at = new Date('2025-06-01T09:00:00.123Z')
  const transport = emlTransport(t, dir, { now: () => at })
  const m = mail({ html: '<p>Hei <b>Äiti</b></p>' })
  const res = await transport.send(m)
  assert.equal(res.ok, true, res.detail)

  const files = await readdir(dir)
  const id = m.messageId.slice(1, -1)
  assert.deepEqual(files, [`2025-06-01T09-00-00.123Z_${id}.eml`]) // no temporary file left
  const got = await simpleParser(await readFile(join(dir, files[0]!)))
  assert.equal(got.messageId, m.messageId)
  assert.equal(got.subject, m.subject)
  assert.equal(got.text?.trim(), m.text)
  assert.match(String(got.html), /Äiti/)
  assert.deepEqual(firstTo(got.to), { address: 'aiti@example.fi', name: 'Äiti Öljynen' })
  assert.equal(got.headers.get('x-account-contacts-category'), 'billing')
})

test('[eml] listEmlFiles lists newest first, honours the limit, and is empty for a missing folder', async (t) => {
  const dir = await tempDir(t)
  let now = Date.parse('2025-06-01T09:00:00Z')
  const transport = emlTransport(t, dir, { now: () => new Date((now += 1_000)) })
  const sent: OutgoingEmail[] = []
  for (const subject of ['eka', 'toka', 'kolmas']) {
    const m = mail({ subject })
    sent.push(m)
    assert.equal((await transport.send(m)).ok, true)
  }

  const listed = await listEmlFiles(dir, 10)
  assert.deepEqual(
    listed.map((e) => e.subject),
    ['kolmas', 'toka', 'eka'],
  )
  assert.deepEqual(
    listed.map((e) => e.messageId),
    sent.map((m) => m.messageId).reverse(),
  )
  assert.match(listed[0]!.to, /Äiti Öljynen/)
  assert.match(listed[0]!.to, /aiti@example\.fi/)
  assert.ok(!Number.isNaN(Date.parse(listed[0]!.date)))
  assert.ok(listed[0]!.file.endsWith('.eml'))

  assert.deepEqual(
    (await listEmlFiles(dir, 2)).map((e) => e.subject),
    ['kolmas', 'toka'],
  )
  assert.deepEqual(await listEmlFiles(join(dir, 'nope'), 10), [])
})

test('[eml] the mail folder it creates and the files it writes are readable by their owner only', async (t) => {
  const dir = join(await tempDir(t), 'mail')
  assert.equal((await emlTransport(t, dir).send(mail())).ok, true)
  assert.equal((await stat(dir)).mode & 0o777, 0o700)
  const [file] = await readdir(dir)
  assert.equal((await stat(join(dir, file!))).mode & 0o777, 0o600, 'the file holds live verification links')
})

test('[eml] a mail that cannot be sent as given is refused and writes nothing', async (t) => {
  const dir = await tempDir(t)
  const res = await emlTransport(t, dir).send(mail({ to: { email: 'not an address' } }))
  assert.deepEqual({ ok: res.ok, retryable: res.retryable }, { ok: false, retryable: false })
  assert.deepEqual(await readdir(dir), [])
})
