import type { MailEventProvider } from '../mail-event.ts'
import { createMailgunVerifier, type MailgunConfig } from './mailgun.ts'
import { type PostmarkConfig, verifyPostmark } from './postmark.ts'
import type { ProviderRequest, ProviderResult } from './provider-request.ts'
import { type SendgridConfig, sendgridPublicKey, verifySendgrid } from './sendgrid.ts'
import { createSesVerifier, type SesConfig } from './ses.ts'

export type { MailgunConfig } from './mailgun.ts'
export { providerRefHeaders } from './outgoing-headers.ts'
export type { PostmarkConfig } from './postmark.ts'
export type { ProviderRequest, ProviderResult } from './provider-request.ts'
export type { SendgridConfig } from './sendgrid.ts'
export type { SesConfig } from './ses.ts'

/** The providers whose webhooks we take; one left out is not configured. */
export interface ProviderVerifiersConfig {
  ses?: SesConfig
  postmark?: PostmarkConfig
  sendgrid?: SendgridConfig
  mailgun?: MailgunConfig
}

/** Checks one request to `POST /v1/email-events/{provider}` and turns it into MailEvents. */
export type ProviderVerifier = (req: ProviderRequest) => Promise<ProviderResult>

/**
 * One verifier per configured provider (undefined for the others, whose route should answer 404).
 * Each keeps what must outlive a request (SNS certificates, Mailgun's seen tokens) for the life of
 * the process. Throws on a configuration that cannot verify anything (no SNS topic, a SendGrid key
 * that is not a P-256 public key, an empty secret), so that it fails at start-up.
 */
export function createProviderVerifiers(
  cfg: ProviderVerifiersConfig,
  deps: { now: () => Date; fetch?: typeof fetch },
): Record<MailEventProvider, ProviderVerifier | undefined> {
  const { ses, postmark, sendgrid, mailgun } = cfg
  if (postmark && (postmark.username === '' || postmark.password === '')) {
    throw new Error('Postmark events need a Basic user name and password')
  }
  if (sendgrid) sendgridPublicKey(sendgrid.publicKey)
  return {
    ses: ses && createSesVerifier(ses, deps),
    postmark: postmark && ((req) => verifyPostmark(req, postmark, deps)),
    sendgrid: sendgrid && ((req) => verifySendgrid(req, sendgrid, deps)),
    mailgun: mailgun && createMailgunVerifier(mailgun, deps),
  }
}
