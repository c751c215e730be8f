import assert from 'node:assert/strict'
import fs from 'node:fs'
import { test } from 'node:test'

import { README, withErrorCodes } from '../../scripts/docs-errors.ts'
import { MAX_BILLING_CONTACTS } from '../../src/contacts/contact-slots.ts'
import { inWords } from '../../src/i18n/labels.ts'
import { ERRORS } from '../../src/lib/errors.ts'

// The README lists the error codes from the catalogue, src/lib/errors.ts; a code added to one
// and not the other fails here.

test('the README lists exactly the error catalogue (npm run docs:errors rewrites the list)', () => {
  const readme = fs.readFileSync(README, 'utf8')
  assert.equal(readme, withErrorCodes(readme), 'the README differs from src/lib/errors.ts: run npm run docs:errors')
  for (const code of Object.keys(ERRORS)) assert.ok(readme.includes(`| \`${code}\` |`), code)
})

test('docs/PRODUCT.md, "Errors", names every code of the catalogue', () => {
  const product = fs.readFileSync(new URL('../../docs/PRODUCT.md', import.meta.url), 'utf8')
  const errors = product.slice(product.indexOf('### Errors'), product.indexOf('### Resources'))
  const missing = Object.keys(ERRORS).filter((code) => !errors.includes(`\`${code}\``))
  assert.deepEqual(missing, [])
})

// A stable title is the catalogue's own words, so the billing limit is written out there; this
// keeps it the limit contacts/contact-slots.ts states.
test("the billing limit's title names MAX_BILLING_CONTACTS", () => {
  const limit = inWords(MAX_BILLING_CONTACTS, 'en')
  assert.equal(ERRORS['billing-contact-limit'].title, `An account has at most ${limit} billing contacts`)
})
