import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MAIL_EVENT_PROVIDERS } from '../../../src/bounces/mail-event.ts'
import { providerRefHeaders } from '../../../src/bounces/providers/outgoing-headers.ts'

const REF = `${'3'.repeat(32)}.${'4'.repeat(12)}`

test('each provider gets the header its events echo the reference back from', () => {
  assert.deepEqual(providerRefHeaders('postmark', REF), { 'X-PM-Metadata-ac-ref': REF })
  assert.deepEqual(providerRefHeaders('sendgrid', REF), { 'X-SMTPAPI': `{"unique_args":{"ac_ref":"${REF}"}}` })
  assert.deepEqual(providerRefHeaders('mailgun', REF), { 'X-Mailgun-Variables': `{"ac_ref":"${REF}"}` })
  assert.deepEqual(providerRefHeaders('ses', REF), {})
  // Every provider has an answer (the switch is exhaustive over the list).
  for (const p of MAIL_EVENT_PROVIDERS) assert.equal(typeof providerRefHeaders(p, REF), 'object')
})
