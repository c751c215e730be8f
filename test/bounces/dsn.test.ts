import assert from 'node:assert/strict'
import fs from 'node:fs'
import { test } from 'node:test'

import fc from 'fast-check'

import { type BounceReport, parseBounceReport } from '../../src/bounces/dsn.ts'

const fixture = (name: string) => fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url))

/** Each fixture and the report it must give, exactly (undefined: not a bounce). */
const CASES: [string, BounceReport | undefined][] = [
  [
    'dsn-hard.eml',
    {
      recipients: [
        {
          recipient: 'ana@example.net',
          kind: 'hard_bounce',
          status: '5.1.1',
          diagnostic: '550 5.1.1 <ana@example.net>: Recipient address rejected: no such user here',
        },
      ],
      messageId: '<report-hard-1@relay.example.org>',
      originalMessageId: '<d-0001@accounts.example.com>',
      refs: ['0123456789abcdef0123456789abcdef.aaaaaaaaaaaa'],
    },
  ],
  [
    'dsn-soft-quota.eml',
    {
      recipients: [
        {
          recipient: 'bo@example.org',
          kind: 'soft_bounce',
          status: '5.2.2',
          diagnostic: '552 5.2.2 The mailbox of bo is full; try again once it has been emptied',
        },
      ],
      messageId: '<report-quota-7@mx2.example.org>',
      originalMessageId: '<d-0002@accounts.example.com>',
      refs: ['fedcba9876543210fedcba9876543210.bbbbbbbbbbbb'],
    },
  ],
  [
    'dsn-delayed.eml',
    {
      recipients: [
        {
          recipient: 'cleo@example.com',
          kind: 'soft_bounce',
          status: '4.4.1',
          diagnostic: 'connect to mx.example.com[198.51.100.3]:25: Connection timed out',
        },
      ],
      messageId: '<report-delay-3@relay.example.org>',
      refs: [],
    },
  ],
  [
    'dsn-delivered.eml',
    {
      recipients: [
        { recipient: 'dan@example.net', kind: 'delivered', status: '2.0.0', diagnostic: '250 2.0.0 stored' },
      ],
      messageId: '<report-ok-9@mx.example.net>',
      originalMessageId: '<d-0004@accounts.example.com>',
      refs: [],
    },
  ],
  [
    // nested multiparts; Original-Recipient wins over Final-Recipient; an x400 recipient is skipped
    'dsn-multi.eml',
    {
      recipients: [
        {
          recipient: 'eve@example.org',
          kind: 'hard_bounce',
          status: '5.1.1',
          diagnostic:
            '550-5.1.1 The email account that you tried to reach does not exist. Please check the address for typos and try again.',
        },
        {
          recipient: 'fay@example.org',
          kind: 'soft_bounce',
          status: '4.4.7',
          diagnostic: '421 4.4.7 gave up after the queue lifetime',
        },
        { recipient: 'gus@example.org', kind: 'delivered', status: '2.0.0', diagnostic: '' },
      ],
      messageId: '<report-multi-5@gw.example.org>',
      originalMessageId: '<d-0005@accounts.example.com>',
      refs: ['11111111111111111111111111111111.cccccccccccc', '22222222222222222222222222222222.dddddddddddd'],
    },
  ],
  [
    'dsn-base64.eml',
    {
      recipients: [
        {
          recipient: 'hal@example.com',
          kind: 'hard_bounce',
          status: '5.7.1',
          diagnostic: "550 5.7.1 Message refused by the recipient's policy",
        },
      ],
      messageId: '<report-b64-6@out.example.org>',
      originalMessageId: '<d-0006@accounts.example.com>',
      refs: ['33333333333333333333333333333333.eeeeeeeeeeee'],
    },
  ],
  [
    // soft line breaks inside the diagnostic and inside the reference, =3D for '='
    'dsn-qp.eml',
    {
      recipients: [
        {
          recipient: 'ines@example.fr',
          kind: 'hard_bounce',
          status: '5.1.10',
          diagnostic:
            '550 5.1.10 RESOLVER.ADR.RecipientNotFound; recipient not found by SMTP address lookup; see https://example.fr/help?code=5.1.10',
        },
      ],
      messageId: '<report-qp-8@relay.example.fr>',
      originalMessageId: '<d-0008@accounts.example.com>',
      refs: ['44444444444444444444444444444444.ffffffffffff'],
    },
  ],
  [
    'arf.eml',
    {
      recipients: [{ recipient: 'ivy@example.net', kind: 'complaint', diagnostic: 'Feedback-Type: abuse' }],
      messageId: '<fbl-20261202-1@fbl.example.net>',
      originalMessageId: '<d-0009@accounts.example.com>',
      refs: ['55555555555555555555555555555555.abababababab'],
    },
  ],
  [
    // no Original-Rcpt-To: the returned headers' To names the recipient
    'arf-redacted.eml',
    {
      recipients: [{ recipient: 'jo.park@example.com', kind: 'complaint', diagnostic: 'Feedback-Type: fraud' }],
      messageId: '<fbl-77@isp.example.com>',
      originalMessageId: '<d-0010@accounts.example.com>',
      refs: [],
    },
  ],
  [
    'qmail.eml',
    {
      recipients: [
        {
          recipient: 'kim@example.org',
          kind: 'hard_bounce',
          status: '5.1.1',
          diagnostic: 'Sorry, no mailbox here by that name. (#5.1.1)',
        },
        {
          recipient: 'lee@remote.example',
          kind: 'hard_bounce',
          status: '5.7.1',
          diagnostic:
            '198.51.100.20 does not like recipient. Remote host said: 550 5.7.1 <lee@remote.example>: relaying denied for this sender Giving up on 198.51.100.20.',
        },
      ],
      messageId: '<20261202120000.777.qmail@mx.example.org>',
      originalMessageId: '<d-0011@accounts.example.com>',
      refs: ['66666666666666666666666666666666.121212121212'],
    },
  ],
  [
    'exim.eml',
    {
      recipients: [
        {
          recipient: 'max@example.co',
          kind: 'hard_bounce',
          status: '5.1.1',
          diagnostic:
            'host mx.example.co [203.0.113.5] SMTP error from remote mail server after RCPT TO:<max@example.co>: 550 5.1.1 <max@example.co>: unknown user in virtual mailbox table',
        },
        {
          // a 552 that says "quota": a full mailbox, not a dead one
          recipient: 'ned@example.co',
          kind: 'soft_bounce',
          diagnostic:
            "host mx.example.co [203.0.113.5] SMTP error from remote mail server after end of data: 552 Message rejected: this user's mailbox quota exceeded",
        },
      ],
      messageId: '<E1abcde-000123-XY@smtp.example.co>',
      originalMessageId: '<d-0012@accounts.example.com>',
      refs: ['77777777777777777777777777777777.343434343434'],
    },
  ],
  [
    'exim-delay.eml',
    {
      recipients: [
        {
          recipient: 'oli@slow.example',
          kind: 'soft_bounce',
          status: '4.7.1',
          diagnostic:
            'Delay reason: SMTP error from remote mail server after RCPT TO:<oli@slow.example>: host mx.slow.example [203.0.113.9]: 451 4.7.1 Please try again later',
        },
      ],
      messageId: '<E1abcdf-000125-ZZ@smtp.example.co>',
      refs: [],
    },
  ],
  [
    // the reason is a paragraph below the address; postmaster@ in the prose is not a recipient
    'generic.eml',
    {
      recipients: [
        {
          recipient: 'pat@corp.example',
          kind: 'hard_bounce',
          status: '5.4.1',
          diagnostic: "Remote Server returned '550 5.4.1 Recipient address rejected: Access denied'",
        },
      ],
      messageId: '<ndr-42@corp.example>',
      originalMessageId: '<d-0013@accounts.example.com>',
      refs: ['88888888888888888888888888888888.565656565656'],
    },
  ],
  // an out-of-office reply with an address and numbers that look like codes
  ['autoreply.eml', undefined],
  ['spam.eml', undefined],
  // from MAILER-DAEMON, bounce-like, but no address or code to attribute it to
  ['daemon-unreadable.eml', undefined],
]

for (const [name, want] of CASES) {
  test(`[dsn] ${name}, with LF and with CRLF line ends`, () => {
    const lf = fixture(name).toString('utf8').replace(/\r\n/g, '\n')
    assert.deepEqual(parseBounceReport(lf), want)
    assert.deepEqual(parseBounceReport(Buffer.from(lf.replace(/\n/g, '\r\n'))), want)
  })
}

const dsn = (status: string, diagnostic: string, action = 'failed') =>
  [
    'From: MAILER-DAEMON@mx.example.org',
    'Content-Type: multipart/report; report-type=delivery-status; boundary=b',
    '',
    '--b',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    '',
    'Final-Recipient: rfc822; <u@example.org>',
    `Action: ${action}`,
    `Status: ${status}`,
    `Diagnostic-Code: smtp; ${diagnostic}`,
    '--b--',
    '',
  ].join('\n')

test('[dsn] classification: status class, over quota in words or 5.2.2, the action', () => {
  const kind = (s: string, d: string, a?: string) => parseBounceReport(dsn(s, d, a))?.recipients[0]?.kind
  assert.equal(kind('5.1.1', '550 5.1.1 unknown'), 'hard_bounce')
  assert.equal(kind('5.0.0', '552 5.2.2 over quota'), 'soft_bounce')
  assert.equal(kind('5.7.1', '550 5.7.1 Mailbox full'), 'soft_bounce')
  assert.equal(kind('4.2.2', '452 4.2.2 full'), 'soft_bounce')
  assert.equal(kind('4.4.7', 'timeout'), 'soft_bounce')
  assert.equal(kind('5.4.4', 'no route', 'delayed'), 'soft_bounce')
  assert.equal(kind('2.0.0', '250 ok', 'expanded'), 'delivered')
  // an IP address in the diagnostic is not a status
  assert.equal(kind('5.1.1', 'host 10.4.2.2 said 550 unknown'), 'hard_bounce')
})

test('[dsn] a diagnostic is one line of at most 500 characters', () => {
  const long = 'x'.repeat(300) + '\n   ' + 'y'.repeat(300)
  const d = parseBounceReport(dsn('5.1.1', long))?.recipients[0]?.diagnostic
  assert.equal(d?.length, 500)
  assert.equal(d, `${'x'.repeat(300)} ${'y'.repeat(198)}…`)
})

test('[dsn] a report with no recipient block, or an ARF that is no complaint, is not a report', () => {
  assert.equal(parseBounceReport(dsn('5.1.1', 'x').replace('Final-Recipient', 'X-Nothing')), undefined)
  const arf = fixture('arf.eml').toString('utf8')
  assert.equal(parseBounceReport(arf.replace('Feedback-Type: abuse', 'Feedback-Type: auth-failure')), undefined)
  assert.equal(parseBounceReport(arf.replace('Feedback-Type: abuse', 'Feedback-Type: not-spam')), undefined)
})

test('[dsn] a complaint whose recipient is redacted everywhere is still a complaint, with no recipient', () => {
  const arf = fixture('arf.eml')
    .toString('utf8')
    .replace('Original-Rcpt-To: <Ivy@Example.net>\n', '')
    .replace('To: Ivy <ivy@example.net>', 'To: [redacted]')
  assert.deepEqual(parseBounceReport(arf), {
    recipients: [],
    messageId: '<fbl-20261202-1@fbl.example.net>',
    originalMessageId: '<d-0009@accounts.example.com>',
    refs: ['55555555555555555555555555555555.abababababab'],
  })
})

test('[dsn] 8-bit UTF-8 reads the same from a string and from bytes; encoded-word subjects are decoded', () => {
  const utf8 = dsn('5.1.1', '550 5.1.1 Empfänger unbekannt')
  assert.equal(parseBounceReport(utf8)?.recipients[0]?.diagnostic, '550 5.1.1 Empfänger unbekannt')
  assert.equal(parseBounceReport(Buffer.from(utf8))?.recipients[0]?.diagnostic, '550 5.1.1 Empfänger unbekannt')
  const german = [
    'From: MAILER-DAEMON@mx.example.de',
    'Subject: =?UTF-8?Q?Unzustellbar=3A_Rechnung_f=C3=BCr_November?=',
    '',
    'Die Nachricht an <uwe@example.de> konnte nicht zugestellt werden:',
    '550 5.1.1 Postfach existiert nicht',
    '',
  ].join('\r\n')
  assert.deepEqual(parseBounceReport(german)?.recipients, [
    {
      recipient: 'uwe@example.de',
      kind: 'hard_bounce',
      status: '5.1.1',
      diagnostic: '550 5.1.1 Postfach existiert nicht',
    },
  ])
  // the same mail from a person is not a bounce
  assert.equal(parseBounceReport(german.replace('MAILER-DAEMON@', 'anna@')), undefined)
})

test('[dsn] a generic bounce with only an HTML body is read without its tags', () => {
  const html = [
    'From: Postmaster <postmaster@corp.example>',
    'Subject: Undeliverable: Invoice',
    'Content-Type: text/html; charset=us-ascii',
    '',
    '<html><body><p>Delivery has failed to:</p><p><b>pat@corp.example</b></p>',
    '<p>Remote server returned &lt;550 5.1.1 User unknown&gt;</p></body></html>',
  ].join('\n')
  assert.deepEqual(parseBounceReport(html)?.recipients, [
    {
      recipient: 'pat@corp.example',
      kind: 'hard_bounce',
      status: '5.1.1',
      diagnostic: 'Remote server returned <550 5.1.1 User unknown>',
    },
  ])
})

test('[dsn] a truncated report keeps what came before the cut', () => {
  const hard = fixture('dsn-hard.eml').toString('utf8')
  const cut = hard.slice(0, hard.indexOf('--=_report/hard.1\nContent-Description: Undelivered'))
  const r = parseBounceReport(cut)
  assert.equal(r?.recipients[0]?.recipient, 'ana@example.net')
  assert.equal(r?.originalMessageId, undefined)
  assert.deepEqual(r?.refs, [])
})

test('[dsn] never throws on garbage: random bytes, truncations, byte flips', () => {
  const fixtures = CASES.map(([name]) => fixture(name))
  const mutated = fc
    .tuple(fc.constantFrom(...fixtures), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))))
    .map(([f, cut, flips]) => {
      const b = Buffer.from(f.subarray(0, cut % (f.length + 1)))
      for (const [at, byte] of flips) if (b.length) b[at % b.length] = byte
      return b
    })
  // the tokens the parser acts on, spliced in where they hurt most
  const TOKENS = ['\n\n', '\r\n', '--', '=?utf-8?b?', '?=', '=\n', '=ZZ', ':', ';', '"', '<', '>', '@', '\t', '\u00ff']
  const spliced = fc
    .tuple(fc.constantFrom(...fixtures), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...TOKENS)), { maxLength: 20 }))
    .map(([f, cuts]) => {
      let s = f.toString('latin1')
      for (const [at, token] of cuts) s = s.slice(0, at % (s.length + 1)) + token + s.slice(at % (s.length + 1))
      return Buffer.from(s, 'latin1')
    })
  const bytes = fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a))
  fc.assert(
    fc.property(fc.oneof(mutated, spliced, bytes, fc.string({ maxLength: 2000 })), (input) => {
      const r = parseBounceReport(input)
      assert.ok(r === undefined || Array.isArray(r.recipients))
    }),
    { numRuns: 2000, seed: 15 },
  )
})

test('[dsn] huge or deeply nested input costs bounded time', () => {
  const started = performance.now()
  const nested =
    Array.from({ length: 5000 }, (_, i) => `Content-Type: multipart/mixed; boundary=b${i}\n\n--b${i}\n`).join('') + 'x'
  assert.equal(parseBounceReport(nested), undefined)
  const manyParts = 'Content-Type: multipart/mixed; boundary=b\n\n' + '--b\n\n'.repeat(200_000)
  assert.equal(parseBounceReport(manyParts), undefined)
  const oneLongLine = Buffer.alloc(8 * 1024 * 1024, 'a')
  assert.equal(parseBounceReport(oneLongLine), undefined)
  // a DSN whose returned message is megabytes of body still reads
  const big = fixture('dsn-soft-quota.eml')
    .toString('utf8')
    .replace('Hello Bo, here is your invoice.', 'z'.repeat(3 * 1024 * 1024))
  assert.equal(parseBounceReport(big)?.recipients[0]?.recipient, 'bo@example.org')
  assert.ok(performance.now() - started < 5000, `took ${performance.now() - started} ms`)
})
