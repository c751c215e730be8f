/**
 * The email services a test acts as (one file each here): each builds the request its provider's
 * webhook would POST to `/v1/email-events/{provider}` about one of our mails, with the payload
 * shapes the unit tests in test/bounces/providers follow (after each provider's documentation),
 * signed as that provider signs, and gives the configuration that makes the app trust it. A forged
 * request is signed with a key the app was not given.
 */
import type { ParsedMail } from 'mailparser'

import type { MailEventKind } from '../../../src/bounces/mail-event.ts'
import type { ProviderVerifiersConfig } from '../../../src/bounces/providers/index.ts'

/** What happened to one of our mails, as the service saw it. */
export interface ServiceEvent {
  /** The reference the mail carried (EmailService.refOf). */
  ref: string
  recipient: string
  kind: MailEventKind
  /** The service's id for the event (for SES the SNS MessageId; for Postmark it maps to a record ID). */
  eventId: string
}

/** One webhook request: the path, the headers and the body exactly as sent. */
export interface WebhookPost {
  url: string
  headers: Record<string, string>
  body: string
}

export interface EmailService {
  provider: 'ses' | 'sendgrid' | 'mailgun' | 'postmark'
  /** This service's entry in buildTestApp's `emailEvents.providers`. */
  providers: ProviderVerifiersConfig
  /**
   * The reference of a mail we sent, as this service reads it to put it in its events: from its
   * metadata header (SendGrid, Mailgun, Postmark) or the envelope sender (SES, which has our header too).
   */
  refOf(mail: ParsedMail): string | undefined
  /** The request this service posts about the event; `forged` signs it with a key the app does not know. */
  post(e: ServiceEvent, opts?: { forged?: boolean }): WebhookPost
  /** The reason our side should record for this service's hard bounce. */
  hardBounceReason: string
  close(): Promise<void>
}

/** A receiving server's reply, as the services report it. */
export interface SmtpReply {
  code: number
  status: string
  text: string
}
export const HARD: SmtpReply = {
  code: 550,
  status: '5.1.1',
  text: 'The email account that you tried to reach does not exist.',
}
export const SOFT: SmtpReply = {
  code: 452,
  status: '4.2.2',
  text: 'The email account that you tried to reach is over quota.',
}
export const reply = (r: SmtpReply) => `${r.code} ${r.status} ${r.text}`

export const nowSeconds = () => Math.floor(Date.now() / 1000)

/**
 * A header's value as it is on the wire, unfolded (RFC 5322 2.2.3) and not decoded: what a
 * service that reads the header as JSON sees. Undefined when the mail has no such header.
 */
export function rawHeader(mail: ParsedMail, name: string): string | undefined {
  const line = mail.headerLines.find((h) => h.key === name.toLowerCase())?.line
  return line?.replace(/\r?\n(?=[ \t])/g, '').replace(/^[^:]*:[ \t]*/, '')
}

/** A header holding JSON (X-SMTPAPI, X-Mailgun-Variables) parsed as the service parses it; undefined when it is no JSON object. */
export function jsonHeader(mail: ParsedMail, name: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(rawHeader(mail, name) ?? '') as unknown
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** The envelope sender our worker is given in these tests; it sends as `bounces+<ref>@…`. */
export const RETURN_PATH = 'bounces@mail.saas.test'
