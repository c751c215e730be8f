import { createHmac, randomBytes } from 'node:crypto'

/** The three Standard Webhooks headers that authenticate one message. */
export interface WebhookSignatureHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

const SECRET_PREFIX = 'whsec_'

/**
 * Signs a webhook per the Standard Webhooks specification, so that the receiver's
 * `standardwebhooks` library (or any port of it) verifies it. Done by hand rather than with the
 * library because it is a dozen lines and keeps the library a test-only dependency.
 */
export function signWebhook(input: {
  secret: string
  msgId: string
  timestamp: Date
  body: string
}): WebhookSignatureHeaders {
  // The spec signs whole seconds; a fractional timestamp would not verify.
  const ts = Math.floor(input.timestamp.getTime() / 1000).toString()
  // The key is the base64 part only; the prefix just marks the string as a secret.
  const encoded = input.secret.startsWith(SECRET_PREFIX) ? input.secret.slice(SECRET_PREFIX.length) : input.secret
  const key = Buffer.from(encoded, 'base64')
  const mac = createHmac('sha256', key).update(`${input.msgId}.${ts}.${input.body}`).digest('base64')
  return { 'webhook-id': input.msgId, 'webhook-timestamp': ts, 'webhook-signature': `v1,${mac}` }
}

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes (the key size the spec recommends). */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64')
}
