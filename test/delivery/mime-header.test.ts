import assert from 'node:assert/strict'
import { test } from 'node:test'

import fc from 'fast-check'
import { simpleParser } from 'mailparser'
import { encodeWords, foldLines } from 'nodemailer/lib/mime-funcs'

import { decodeEncodedWords, parseHeaderBlock } from '../../src/delivery/transports/mime-header.ts'

test('[mime] Q and B words decode; whitespace between words goes, whitespace beside plain text stays', () => {
  assert.equal(
    decodeEncodedWords('=?UTF-8?Q?=C3=84iti_=C3=96ljynen?= <aiti@example.fi>'),
    'Äiti Öljynen <aiti@example.fi>',
  )
  assert.equal(decodeEncodedWords('=?utf-8?b?w4RpdGk=?='), 'Äiti')
  assert.equal(decodeEncodedWords('=?UTF-8?Q?a?= =?UTF-8?Q?b?=\r\n =?UTF-8?B?Yw==?='), 'abc')
  assert.equal(decodeEncodedWords('Hei =?UTF-8?Q?=C3=84iti?= ja muut'), 'Hei Äiti ja muut')
  assert.equal(decodeEncodedWords('plain text, =? not a word'), 'plain text, =? not a word')
})

test('[mime] a character split over two words comes out whole; other charsets decode; an unknown one stays as written', () => {
  // 'Ä' is C3 84 in UTF-8: one byte in each word
  assert.equal(decodeEncodedWords('=?UTF-8?Q?=C3?= =?UTF-8?Q?=84iti?='), 'Äiti')
  assert.equal(decodeEncodedWords('=?UTF-8?B?w4Q=?= =?UTF-8?B?w5Y=?='), 'ÄÖ')
  assert.equal(decodeEncodedWords('=?ISO-8859-1?Q?=C4iti?='), 'Äiti')
  assert.equal(decodeEncodedWords('=?ISO-8859-1*fi?Q?=C4iti?='), 'Äiti') // RFC 2231 language tag
  assert.equal(decodeEncodedWords('=?x-no-such-charset?Q?abc?= d'), '=?x-no-such-charset?Q?abc?= d')
})

test('[mime] header fields unfold, by lower-case name, the first of a repeated one winning', () => {
  const fields = parseHeaderBlock(
    'Subject: =?UTF-8?Q?pitk=C3=A4?=\r\n =?UTF-8?Q?_otsikko?=\r\nTo: a@example.fi\r\nto: b@example.fi\r\nX-Empty:\r\n',
  )
  assert.equal(fields.get('subject'), '=?UTF-8?Q?pitk=C3=A4?= =?UTF-8?Q?_otsikko?=')
  assert.equal(decodeEncodedWords(fields.get('subject')!), 'pitkä otsikko')
  assert.equal(fields.get('to'), 'a@example.fi')
  assert.equal(fields.get('x-empty'), '')
})

test('[mime] whatever nodemailer encodes and folds decodes back, as mailparser reads it', async () => {
  // Short words force the encoder to split long runs, and so characters over word boundaries.
  const text = fc.string({
    unit: fc.constantFrom('a', 'Z', ' ', '_', '=', '?', 'ä', 'Ö', '€', '😀', '"', '-'),
    minLength: 1,
    maxLength: 60,
  })
  await fc.assert(
    fc.asyncProperty(
      text,
      fc.constantFrom('Q', 'B'),
      fc.integer({ min: 20, max: 76 }),
      async (subject, encoding, max) => {
        const header = foldLines(`Subject: ${encodeWords(subject, encoding, max)}`, 76)
        const ours = decodeEncodedWords(parseHeaderBlock(header).get('subject')!)
        const theirs = (await simpleParser(`${header}\r\n\r\n`)).subject ?? ''
        // the header's own leading and trailing space is not part of the value
        assert.equal(ours, subject.trim(), header)
        // mailparser also collapses runs of spaces; unfolding keeps them, as RFC 5322 says
        assert.equal(ours.replace(/\s+/g, ' '), theirs.replace(/\s+/g, ' '), header)
      },
    ),
    { numRuns: 300 },
  )
})
