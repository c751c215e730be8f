import type { MailEventProvider } from '../mail-event.ts'

/**
 * The name under which a mail's reference rides in SendGrid's custom arguments and Mailgun's
 * variables, and comes back in their events.
 */
export const REF_METADATA_KEY = 'ac_ref'
/**
 * Postmark's name for it, `Metadata["ac-ref"]` in its webhooks: over SMTP a metadata key is the tail
 * of an `X-PM-Metadata-<key>` header.
 */
export const POSTMARK_REF_METADATA_KEY = 'ac-ref'

/**
 * The headers that make `provider` echo the reference `ref` back in its events, for the sending side
 * to add to each mail (beside the envelope sender and the `X-Account-Contacts-Ref` header):
 * - Postmark: `X-PM-Metadata-ac-ref`, returned as `Metadata["ac-ref"]`;
 * - SendGrid: `X-SMTPAPI` unique_args, returned as a top-level `ac_ref` on each event (a mail must
 *   carry one X-SMTPAPI header only: anything else the sender puts there must be merged into this);
 * - Mailgun: `X-Mailgun-Variables`, returned as `user-variables.ac_ref`;
 * - SES: none; its events carry the envelope sender as `mail.source`, and the headers when the
 *   configuration set includes them.
 */
export function providerRefHeaders(provider: MailEventProvider, ref: string): Record<string, string> {
  switch (provider) {
    case 'postmark':
      return { [`X-PM-Metadata-${POSTMARK_REF_METADATA_KEY}`]: ref }
    case 'sendgrid':
      return { 'X-SMTPAPI': JSON.stringify({ unique_args: { [REF_METADATA_KEY]: ref } }) }
    case 'mailgun':
      return { 'X-Mailgun-Variables': JSON.stringify({ [REF_METADATA_KEY]: ref }) }
    case 'ses':
      return {}
  }
}
