/**
 * What a mail service or a bounce report says happened to one of our mails, once its signature
 * (or, for a bounce over SMTP, its return-path token) has been checked: the one shape every
 * source is turned into before anything is written (bounces.service.ts).
 */

/** Where the report came from: a DSN to our bounce listener, or an email service's webhook. */
export const MAIL_EVENT_SOURCES = ['smtp', 'ses', 'postmark', 'sendgrid', 'mailgun'] as const
export type MailEventSource = (typeof MAIL_EVENT_SOURCES)[number]

/** The webhook providers: `POST /v1/email-events/{provider}`. */
export const MAIL_EVENT_PROVIDERS = ['ses', 'postmark', 'sendgrid', 'mailgun'] as const
export type MailEventProvider = (typeof MAIL_EVENT_PROVIDERS)[number]

/**
 * - hard_bounce: the mailbox does not exist or refuses us for good (5.x.x, a provider's "permanent");
 * - soft_bounce: for now (mailbox full, greylisting, a provider's "transient"); counted, and only
 *   repeated soft bounces suppress the address;
 * - complaint: the recipient marked the mail as spam (an ARF report, a provider's complaint);
 * - delivered: the receiving server took it (a provider's delivery event; an RFC 3464 "delivered").
 */
export type MailEventKind = 'hard_bounce' | 'soft_bounce' | 'complaint' | 'delivered'

export interface MailEvent {
  source: MailEventSource
  /**
   * The source's own id for this event (SNS MessageId, Postmark's record id, SendGrid's
   * sg_event_id, Mailgun's event id; for a DSN the report's Message-ID), so that a replayed event is
   * recognised and changes nothing. Unique per source together with the recipient.
   */
  eventId: string
  kind: MailEventKind
  /**
   * Which of our mails: the signed return-path reference (`<token>.<signature>`, return-path.ts),
   * taken from the envelope sender, the `X-Account-Contacts-Ref` header or the provider's metadata.
   * Undefined when the report carries none (such an event is logged and changes nothing).
   */
  ref: string | undefined
  /** The address the event is about, lower case. */
  recipient: string
  /** The server's or the provider's reason, one line, at most 500 characters ('' when none). */
  diagnostic: string
  /** When it happened, as the source says (the time received when it says nothing). */
  at: Date
}
