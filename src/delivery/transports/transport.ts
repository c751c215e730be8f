/**
 * What every channel's transport answers instead of throwing: whether the message went, and if
 * not, whether trying again later can help. The worker turns this into the delivery's next state.
 */
export interface DeliveryResult {
  ok: boolean
  /** Not ok, and a later attempt may succeed (SMTP 4xx, connection errors, HTTP 429/5xx, timeouts). */
  retryable: boolean
  /** One line for `lastError` / the log: the server's answer, never a secret. */
  detail: string
  /** The peer asked for this delay (HTTP Retry-After), in milliseconds. */
  retryAfterMs?: number
  /** A webhook endpoint answered 410 Gone: disable it. */
  disableEndpoint?: boolean
  /** The mail server refused the recipient for good (SMTP 5xx): mark the address undeliverable. */
  recipientRejected?: boolean
}

/**
 * The header naming the account a mail was sent for. The worker sets it on every mail; the demo
 * mailbox shows a signed-in user only the files that carry their own account here.
 */
export const ACCOUNT_HEADER = 'X-Account-Contacts-Account'

export interface OutgoingEmail {
  /** Stable per delivery, `<id@host>`, so that a receiver can drop a duplicate. */
  messageId: string
  from: string
  /** The envelope sender (SMTP MAIL FROM), where bounces go; default: the From address. */
  envelopeFrom?: string | undefined
  to: { email: string; name?: string | undefined }
  subject: string
  text: string
  html?: string | undefined
  /** Extra headers (e.g. `X-Account-Contacts-Category`). Values are single lines. */
  headers?: Record<string, string>
}

export interface EmailTransport {
  send(mail: OutgoingEmail): Promise<DeliveryResult>
  close(): Promise<void>
}

export interface OutgoingWebhook {
  url: string
  /** `whsec_` + base64 key, per the Standard Webhooks specification. */
  secret: string
  /** `webhook-id`: stable across retries of the same message. */
  msgId: string
  timestamp: Date
  /** The JSON body, exactly as signed. */
  body: string
}

export interface WebhookTransport {
  send(hook: OutgoingWebhook): Promise<DeliveryResult>
}
