import { Type } from '@sinclair/typebox'

import type { ProviderVerifiersConfig } from '../bounces/providers/index.ts'
import { RETURN_PATH_LOCAL_MAX } from '../bounces/return-path.ts'

/*
 * The settings of bounces and email-service events (docs/BOUNCES.md), part of config.ts's one
 * environment schema: config.ts reads them with the rest and calls `emailEventsConfig`.
 */

const LIST = { minLength: 1 }

export const EMAIL_EVENTS_ENV = {
  /** `bounces@mail.example.com`: each mail's envelope sender becomes `bounces+<ref>@mail.example.com`. */
  MAIL_RETURN_PATH: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+$' })),
  /** The port of the inbound SMTP listener that takes bounce reports (DSNs) for MAIL_RETURN_PATH. */
  BOUNCE_SMTP_PORT: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  /** The address it listens on (default: HOST). */
  BOUNCE_SMTP_HOST: Type.Optional(Type.String({ minLength: 1 })),
  /** Soft bounces of one address that suppress it, within SOFT_BOUNCE_DAYS. */
  SOFT_BOUNCE_LIMIT: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
  SOFT_BOUNCE_DAYS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
  /** Amazon SES through SNS: the topic ARNs we subscribed, comma-separated. */
  SES_SNS_TOPIC_ARNS: Type.Optional(Type.String(LIST)),
  /** Further prefixes of SNS signing-certificate URLs to trust beside sns.<region>.amazonaws.com (a private or test SNS). */
  SES_SNS_CERT_URL_PREFIXES: Type.Optional(Type.String(LIST)),
  /** Postmark: the Basic credentials put in the webhook's URL. */
  POSTMARK_WEBHOOK_USERNAME: Type.Optional(Type.String(LIST)),
  POSTMARK_WEBHOOK_PASSWORD: Type.Optional(Type.String({ minLength: 16 })),
  /** SendGrid: the signed event webhook's verification key (base64 DER, as SendGrid shows it, or PEM). */
  SENDGRID_WEBHOOK_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 40 })),
  /** Mailgun: the HTTP webhook signing key. */
  MAILGUN_WEBHOOK_SIGNING_KEY: Type.Optional(Type.String({ minLength: 16 })),
}

export const EMAIL_EVENTS_HINTS = {
  MAIL_RETURN_PATH: `an address such as bounces@mail.example.com, its local part at most ${RETURN_PATH_LOCAL_MAX} characters`,
  BOUNCE_SMTP_PORT: 'a port number, with MAIL_RETURN_PATH set',
  SOFT_BOUNCE_LIMIT: 'a whole number (1 or more)',
  SOFT_BOUNCE_DAYS: 'a whole number of days (1 or more)',
  SES_SNS_CERT_URL_PREFIXES: 'URL prefixes ending in "/", separated by commas',
  POSTMARK_WEBHOOK_USERNAME: 'set together with POSTMARK_WEBHOOK_PASSWORD',
  POSTMARK_WEBHOOK_PASSWORD: 'at least 16 characters, set together with POSTMARK_WEBHOOK_USERNAME',
}

type EmailEventsEnv = { [K in keyof typeof EMAIL_EVENTS_ENV]?: string }

export interface EmailEventsConfig {
  readonly returnPath: string | undefined
  readonly bounceSmtp: { readonly port: number; readonly host: string | undefined } | undefined
  readonly softBounces: { readonly limit: number; readonly days: number }
  readonly providers: ProviderVerifiersConfig
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** The settings as values, or the name of the first that is wrong (config.ts turns it into a ConfigError). */
export function emailEventsConfig(e: EmailEventsEnv): EmailEventsConfig | { invalid: keyof typeof EMAIL_EVENTS_HINTS } {
  if (e.MAIL_RETURN_PATH && e.MAIL_RETURN_PATH.split('@')[0]!.length > RETURN_PATH_LOCAL_MAX)
    return { invalid: 'MAIL_RETURN_PATH' }
  const port = e.BOUNCE_SMTP_PORT === undefined ? undefined : Number(e.BOUNCE_SMTP_PORT)
  // a listener for a return path no mail carries would wait for nothing
  if (port !== undefined && (port > 65535 || !e.MAIL_RETURN_PATH)) return { invalid: 'BOUNCE_SMTP_PORT' }
  const prefixes = list(e.SES_SNS_CERT_URL_PREFIXES)
  if (prefixes.some((p) => !/^https?:\/\/\S+\/$/.test(p))) return { invalid: 'SES_SNS_CERT_URL_PREFIXES' }
  if (Boolean(e.POSTMARK_WEBHOOK_USERNAME) !== Boolean(e.POSTMARK_WEBHOOK_PASSWORD))
    return { invalid: e.POSTMARK_WEBHOOK_USERNAME ? 'POSTMARK_WEBHOOK_PASSWORD' : 'POSTMARK_WEBHOOK_USERNAME' }
  const topics = list(e.SES_SNS_TOPIC_ARNS)
  return {
    returnPath: e.MAIL_RETURN_PATH?.toLowerCase(),
    bounceSmtp: port === undefined ? undefined : { port, host: e.BOUNCE_SMTP_HOST },
    // three soft bounces in a week: a full mailbox that stays full, not one bad afternoon
    softBounces: { limit: Number(e.SOFT_BOUNCE_LIMIT ?? 3), days: Number(e.SOFT_BOUNCE_DAYS ?? 7) },
    providers: {
      ...(topics.length > 0 ? { ses: { topicArns: topics, certUrlPrefixes: prefixes } } : {}),
      ...(e.POSTMARK_WEBHOOK_USERNAME && e.POSTMARK_WEBHOOK_PASSWORD
        ? { postmark: { username: e.POSTMARK_WEBHOOK_USERNAME, password: e.POSTMARK_WEBHOOK_PASSWORD } }
        : {}),
      ...(e.SENDGRID_WEBHOOK_PUBLIC_KEY ? { sendgrid: { publicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY } } : {}),
      ...(e.MAILGUN_WEBHOOK_SIGNING_KEY ? { mailgun: { signingKey: e.MAILGUN_WEBHOOK_SIGNING_KEY } } : {}),
    },
  }
}
