import type { MailEvent, MailEventKind } from '../mail-event.ts'
import { REF_HEADER } from '../return-path.ts'
import { isRecord, oneLine, recipientOf, refFromEnvelope, text, timeOf } from './provider-request.ts'

/**
 * The MailEvents in an SES notification, the JSON in an SNS Notification's `Message`
 * (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html, and the `eventType` form
 * of event publishing, https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html):
 * one per recipient the bounce, complaint or delivery names. Other types (Send, Reject, Open, Click,
 * DeliveryDelay, …) give none. Undefined when the notification is not in the documented shape.
 */
export function sesEvents(notification: unknown, snsMessageId: string, received: Date): MailEvent[] | undefined {
  if (!isRecord(notification) || !isRecord(notification.mail)) return undefined
  const type = notification.notificationType ?? notification.eventType
  const ref = sesRef(notification.mail)
  const event = (kind: MailEventKind, recipient: string, diagnostic: string, at: unknown): MailEvent => ({
    source: 'ses',
    eventId: `${snsMessageId}:${recipient}`,
    kind,
    ref,
    recipient,
    diagnostic: oneLine(diagnostic),
    at: timeOf(at, received),
  })

  if (type === 'Bounce') {
    const b = notification.bounce
    if (!isRecord(b) || !Array.isArray(b.bouncedRecipients)) return undefined
    // Permanent is SES's hard bounce; Transient and Undetermined may yet pass, so they only count.
    const kind = b.bounceType === 'Permanent' ? 'hard_bounce' : 'soft_bounce'
    return each(b.bouncedRecipients, (r) => {
      const recipient = isRecord(r) ? recipientOf(r.emailAddress) : undefined
      if (!isRecord(r) || !recipient) return undefined
      const diagnostic = text(r.diagnosticCode) ?? join(r.action, r.status) ?? join(b.bounceType, b.bounceSubType) ?? ''
      return event(kind, recipient, diagnostic, b.timestamp)
    })
  }
  if (type === 'Complaint') {
    const c = notification.complaint
    if (!isRecord(c) || !Array.isArray(c.complainedRecipients)) return undefined
    return each(c.complainedRecipients, (r) => {
      const recipient = isRecord(r) ? recipientOf(r.emailAddress) : undefined
      return recipient ? event('complaint', recipient, text(c.complaintFeedbackType) ?? '', c.timestamp) : undefined
    })
  }
  if (type === 'Delivery') {
    const d = notification.delivery
    if (!isRecord(d) || !Array.isArray(d.recipients)) return undefined
    return each(d.recipients, (r) => {
      const recipient = recipientOf(r)
      return recipient ? event('delivered', recipient, text(d.smtpResponse) ?? '', d.timestamp) : undefined
    })
  }
  return []
}

/** All the events, or undefined when any entry is malformed (no silent loss of a recipient). */
function each(list: unknown[], toEvent: (entry: unknown) => MailEvent | undefined): MailEvent[] | undefined {
  const events = list.map(toEvent)
  return events.every((e) => e !== undefined) ? events : undefined
}

const join = (...parts: unknown[]): string | undefined => text(parts.map((p) => text(p) ?? '').join(' '))

/** The reference: from the envelope sender SES reports as `mail.source`, else our header. */
function sesRef(mail: Record<string, unknown>): string | undefined {
  const fromEnvelope = refFromEnvelope(mail.source)
  if (fromEnvelope) return fromEnvelope
  if (!Array.isArray(mail.headers)) return undefined
  const header = mail.headers.find(
    (h) => isRecord(h) && typeof h.name === 'string' && h.name.toLowerCase() === REF_HEADER.toLowerCase(),
  ) as Record<string, unknown> | undefined
  return text(header?.value)
}
