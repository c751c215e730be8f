import { REF_HEADER, returnPathAddress, signRef } from '../bounces/return-path.ts'
import { correctionLinkUrl, correctionToken } from '../corrections/correction-link.ts'
import { withWhyLine } from '../corrections/why-line.ts'
import type { RecipientRole } from '../i18n/correction-text.ts'
import type { SecretDeriver } from '../lib/derived-secrets.ts'
import type { Recipient } from '../routing/recipients.repository.ts'
import { fillToken } from '../verification/verification-token.ts'
import { type EmailContent, recipientUserKey } from './deliveries.repository.ts'
import type { DeliveryRow } from './deliveries.table.ts'
import { ACCOUNT_HEADER, type OutgoingEmail } from './transports/transport.ts'

/** What a mail is built with besides its delivery and content (WorkerOptions). */
export interface ComposeOptions {
  messageIdHost: string
  mailFrom: string
  /** The service's public URL: each account mail's "Not the right person?" link opens a page there. */
  publicUrl: string
  returnPath?: string | undefined
  refHeaders?: ((ref: string) => Record<string, string>) | undefined
}

/**
 * One claimed email delivery as the mail that goes out: its own or its notification's words; the
 * verification link's token filled in; the signed reference that brings a late bounce back to it;
 * and, in a platform's mail, why this recipient gets it, with the link to say they are the wrong one.
 */
export function composeEmail(
  d: DeliveryRow,
  n: EmailContent,
  o: ComposeOptions,
  secrets: Pick<SecretDeriver, 'verificationToken' | 'returnPathSignature' | 'correctionLinkSignature'>,
): OutgoingEmail {
  const c = d.content ?? n
  // secrets the outbox must not hold (a verification link's token) are filled in only here, and
  // only in the verification mail, from its own row: never from what its text says
  const fill = (s: string) =>
    fillToken(s, { category: n.category, accountId: d.account_id, notificationId: d.notification_id! }, secrets)
  const ref = d.return_token ? signRef(secrets, d.return_token) : undefined
  const body = explained(d, n, o, secrets, { text: fill(c.text), html: c.html ? fill(c.html) : undefined })
  return {
    messageId: `<${d.id}@${o.messageIdHost}>`,
    from: o.mailFrom,
    envelopeFrom: ref && o.returnPath ? returnPathAddress(o.returnPath, ref) : undefined,
    to: { email: d.recipient, name: d.recipient_name ?? undefined },
    subject: c.subject,
    ...body,
    headers: {
      'X-Account-Contacts-Category': n.category,
      [ACCOUNT_HEADER]: d.account_id,
      // RFC 3834: written by a program, so auto-responders must not answer it
      'Auto-Submitted': 'auto-generated',
      ...(ref ? { [REF_HEADER]: ref, ...o.refHeaders?.(ref) } : {}),
    },
  }
}

/** The ancestor whose contact the recipient is, when all their slots come from that one account. */
function holderAbove(r: Recipient): string | undefined {
  const from = new Set((r.inherited ?? []).map((i) => i.fromAccountName))
  return from.size === 1 && r.inherited!.length === r.slots.length ? [...from][0] : undefined
}

/**
 * The body with its "why you got this" lines, for a platform's mail to a recipient the routing
 * chose (not a test message, which says why in its own words, nor our own mail, which does too).
 */
function explained(
  d: DeliveryRow,
  n: EmailContent,
  o: ComposeOptions,
  secrets: Pick<SecretDeriver, 'correctionLinkSignature'>,
  body: { text: string; html: string | undefined },
) {
  if (n.kind !== 'notification' || n.is_test) return body
  const address = d.recipient.toLowerCase()
  const r = n.recipients.find((x) => x.email.toLowerCase() === address)
  // recipients written before slots were stored have none: their mail goes as it was
  if (!r || (r.slots ?? []).length === 0) return body
  return withWhyLine(body, {
    accountName: n.account_name,
    locale: n.user_locales?.[recipientUserKey(r) ?? ''] ?? n.account_locale,
    roles: r.slots as RecipientRole[],
    holderAccountName: holderAbove(r),
    fallbackFor: r.fallbackFor,
    link: correctionLinkUrl(o.publicUrl, correctionToken(secrets, d.account_id, d.id)),
  })
}
