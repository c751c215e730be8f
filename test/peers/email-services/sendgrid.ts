import { generateKeyPairSync, sign } from 'node:crypto'

import type { MailEventKind } from '../../../src/bounces/mail-event.ts'
import { type EmailService, HARD, jsonHeader, nowSeconds, reply, SOFT } from './email-service.ts'

/** SendGrid's Signed Event Webhook: a batch, ECDSA P-256 (SHA-256) over the timestamp header and the body. */
export function sendgrid(): EmailService {
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const kinds: Record<MailEventKind, Record<string, unknown>> = {
    hard_bounce: { event: 'bounce', type: 'bounce', status: HARD.status, reason: reply(HARD) },
    soft_bounce: { event: 'deferred', response: reply(SOFT), attempt: '1' },
    complaint: { event: 'spamreport' },
    delivered: { event: 'delivered', response: '250 2.0.0 OK' },
  }
  return {
    provider: 'sendgrid',
    providers: { sendgrid: { publicKey: keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64') } },
    // Our custom argument, sent as X-SMTPAPI unique_args.
    refOf: (mail) => (jsonHeader(mail, 'x-smtpapi')?.unique_args as Record<string, string> | undefined)?.ac_ref,
    hardBounceReason: reply(HARD),
    post(e, opts = {}) {
      const event = {
        email: e.recipient,
        timestamp: nowSeconds(),
        'smtp-id': `<${e.eventId}@ismtpd-555>`,
        sg_event_id: e.eventId,
        sg_message_id: `${e.eventId}.filter0001.16648.5515E0B88.0`,
        category: ['receipt'],
        ac_ref: e.ref,
        ...kinds[e.kind],
      }
      const body = JSON.stringify([event])
      const timestamp = String(nowSeconds())
      const key = opts.forged ? other.privateKey : keys.privateKey
      const signature = sign('sha256', Buffer.from(timestamp + body), key).toString('base64')
      const headers = {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature': signature,
        'x-twilio-email-event-webhook-timestamp': timestamp,
      }
      return { url: '/v1/email-events/sendgrid', headers, body }
    },
    close: async () => {},
  }
}
