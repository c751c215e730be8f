import { createHmac, randomBytes } from 'node:crypto'

import type { MailEventKind } from '../../../src/bounces/mail-event.ts'
import {
  type EmailService,
  HARD,
  jsonHeader,
  nowSeconds,
  reply,
  RETURN_PATH,
  type SmtpReply,
  SOFT,
} from './email-service.ts'

/**
 * Mailgun's webhooks: one event per request, signed with HMAC-SHA256 over the timestamp and a
 * token; each request has a token of its own, as Mailgun's do.
 */
export function mailgun(): EmailService {
  const signingKey = `key-${randomBytes(16).toString('hex')}`
  const failed = (severity: string, r: SmtpReply) => ({
    event: 'failed',
    severity,
    reason: 'bounce',
    'delivery-status': { code: r.code, message: `${r.status} ${r.text}`, description: '', 'attempt-no': 1 },
  })
  const kinds: Record<MailEventKind, Record<string, unknown>> = {
    hard_bounce: failed('permanent', HARD),
    soft_bounce: failed('temporary', SOFT),
    complaint: { event: 'complained' },
    delivered: { event: 'delivered', 'delivery-status': { code: 250, message: 'OK', description: '' } },
  }
  return {
    provider: 'mailgun',
    providers: { mailgun: { signingKey } },
    // Our variable, sent as X-Mailgun-Variables.
    refOf: (mail) => jsonHeader(mail, 'x-mailgun-variables')?.ac_ref as string | undefined,
    hardBounceReason: reply(HARD),
    post(e, opts = {}) {
      const timestamp = String(nowSeconds())
      const token = randomBytes(25).toString('hex')
      const signature = createHmac('sha256', opts.forged ? 'key-someone-else' : signingKey)
        .update(timestamp + token)
        .digest('hex')
      const data = {
        id: e.eventId,
        timestamp: Date.now() / 1000,
        recipient: e.recipient,
        envelope: { sender: RETURN_PATH, targets: e.recipient, transport: 'smtp' },
        'user-variables': { ac_ref: e.ref },
        message: { headers: { 'message-id': `${e.eventId}@mail.saas.test` } },
        ...kinds[e.kind],
      }
      const body = JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': data })
      return { url: '/v1/email-events/mailgun', headers: { 'content-type': 'application/json' }, body }
    },
    close: async () => {},
  }
}
