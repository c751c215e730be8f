import { randomBytes } from 'node:crypto'

import { type EmailService, HARD, rawHeader, reply, SOFT } from './email-service.ts'

/** Postmark's webhooks: one record per request, behind the Basic credentials set on the webhook. */
export function postmark(): EmailService {
  const creds = { username: 'hooks', password: randomBytes(12).toString('hex') }
  const basic = (password: string) => `Basic ${Buffer.from(`${creds.username}:${password}`).toString('base64')}`
  // Postmark's record IDs are numbers: one per event id, in order.
  const ids = new Map<string, number>()
  const idOf = (eventId: string) => ids.get(eventId) ?? ids.set(eventId, 1000 + ids.size).get(eventId)!
  return {
    provider: 'postmark',
    providers: { postmark: creds },
    // Our metadata, sent as X-PM-Metadata-ac-ref.
    refOf: (mail) => rawHeader(mail, 'x-pm-metadata-ac-ref'),
    hardBounceReason: `smtp;${reply(HARD)}`,
    post(e, opts = {}) {
      const at = new Date().toISOString()
      const common = { MessageID: `pm-${e.eventId}`, MessageStream: 'outbound', Metadata: { 'ac-ref': e.ref } }
      const bounce = (Type: string, TypeCode: number, details: string) => ({
        RecordType: 'Bounce',
        ID: idOf(e.eventId),
        Type,
        TypeCode,
        Email: e.recipient,
        Details: details,
        BouncedAt: at,
        ...common,
      })
      const record =
        e.kind === 'hard_bounce'
          ? bounce('HardBounce', 1, `smtp;${reply(HARD)}`)
          : e.kind === 'soft_bounce'
            ? bounce('SoftBounce', 4096, `smtp;${reply(SOFT)}`)
            : e.kind === 'complaint'
              ? {
                  RecordType: 'SpamComplaint',
                  ID: idOf(e.eventId),
                  Type: 'SpamComplaint',
                  Email: e.recipient,
                  BouncedAt: at,
                  ...common,
                }
              : { RecordType: 'Delivery', Recipient: e.recipient, DeliveredAt: at, Details: 'Test delivery', ...common }
      const headers = {
        'content-type': 'application/json',
        authorization: basic(opts.forged ? 'guess' : creds.password),
      }
      return { url: '/v1/email-events/postmark', headers, body: JSON.stringify(record) }
    },
    close: async () => {},
  }
}
