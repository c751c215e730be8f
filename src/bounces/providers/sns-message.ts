import { verify } from 'node:crypto'

import { isRecord } from './provider-request.ts'
import type { SnsCertificates } from './sns-certificates.ts'

/**
 * An Amazon SNS HTTP(S) message, with the fields its signature covers
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html,
 * https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html).
 */
export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation'
  MessageId: string
  TopicArn: string
  Message: string
  Timestamp: string
  SignatureVersion: string | undefined
  Signature: string | undefined
  SigningCertURL: string | undefined
  Subject?: string
  Token?: string
  SubscribeURL?: string
}

const TYPES = new Set(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'])
const REQUIRED = ['MessageId', 'TopicArn', 'Message', 'Timestamp'] as const

/** The message in a parsed body, or what is wrong with it. */
export function parseSnsMessage(body: unknown): SnsMessage | string {
  if (!isRecord(body)) return 'body is not a JSON object'
  if (typeof body.Type !== 'string' || !TYPES.has(body.Type)) return 'unknown SNS message Type'
  for (const field of REQUIRED) if (typeof body[field] !== 'string') return `SNS message without ${field}`
  const opt = (field: string) => (typeof body[field] === 'string' ? body[field] : undefined)
  const confirmation = body.Type !== 'Notification'
  if (confirmation && (opt('Token') === undefined || opt('SubscribeURL') === undefined)) {
    return 'SNS confirmation without Token or SubscribeURL'
  }
  return {
    ...(body as unknown as SnsMessage),
    SignatureVersion: opt('SignatureVersion'),
    Signature: opt('Signature'),
    SigningCertURL: opt('SigningCertURL'),
    Subject: opt('Subject'),
  }
}

/**
 * The string SNS signs: each field's name and value on a line of its own, in byte order of the
 * names, with Subject only when the notification has one. Confirmations are signed over
 * SubscribeURL and Token in place of Subject.
 */
function snsStringToSign(m: SnsMessage): string {
  const fields: [string, string | undefined][] =
    m.Type === 'Notification'
      ? [
          ['Message', m.Message],
          ['MessageId', m.MessageId],
          ['Subject', m.Subject],
          ['Timestamp', m.Timestamp],
          ['TopicArn', m.TopicArn],
          ['Type', m.Type],
        ]
      : [
          ['Message', m.Message],
          ['MessageId', m.MessageId],
          ['SubscribeURL', m.SubscribeURL],
          ['Timestamp', m.Timestamp],
          ['Token', m.Token],
          ['TopicArn', m.TopicArn],
          ['Type', m.Type],
        ]
  return fields
    .filter((f): f is [string, string] => f[1] !== undefined)
    .map(([name, value]) => `${name}\n${value}\n`)
    .join('')
}

/** SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA; anything else is not SNS's. */
const DIGESTS: Record<string, string> = { '1': 'sha1', '2': 'sha256' }

/** Why the message's signature does not hold, or undefined when it does. */
export async function checkSnsSignature(
  m: SnsMessage,
  certificates: SnsCertificates,
  now: Date,
): Promise<string | undefined> {
  const digest = DIGESTS[m.SignatureVersion ?? '']
  if (!digest) return 'unsupported SignatureVersion'
  if (!m.Signature || !m.SigningCertURL) return 'unsigned SNS message'
  if (!certificates.allows(m.SigningCertURL)) return 'SigningCertURL not allowed'
  let cert
  try {
    cert = await certificates.get(m.SigningCertURL, now)
  } catch {
    return 'signing certificate unavailable'
  }
  try {
    const signature = Buffer.from(m.Signature, 'base64')
    return verify(digest, Buffer.from(snsStringToSign(m)), cert.publicKey, signature) ? undefined : 'bad signature'
  } catch {
    // A key of another kind than RSA, say: no signature of SNS's.
    return 'bad signature'
  }
}
