import { parseJson, type ProviderRequest, type ProviderResult, reject } from './provider-request.ts'
import { sesEvents } from './ses-notification.ts'
import { createSnsCertificates, type SnsCertificates } from './sns-certificates.ts'
import { checkSnsSignature, parseSnsMessage } from './sns-message.ts'

/** Amazon SES events, delivered by an SNS topic's HTTPS subscription. */
export interface SesConfig {
  /** The SNS topics we subscribed to; a message from any other topic is refused. Not empty. */
  topicArns: readonly string[]
  /** How old a message's Timestamp may be (default 3600 s); older ones are refused as replays. */
  maxAgeSeconds?: number
  /**
   * Certificate and SubscribeURL prefixes allowed beside `https://sns.<region>.amazonaws.com/`, each
   * ending in `/` (a local test's `http://127.0.0.1:port/`). Empty in production.
   */
  certUrlPrefixes?: readonly string[]
  /** How long fetching a signing certificate may take (default 5000 ms). */
  certTimeoutMs?: number
}

/** What verifySes needs beside the request and the configuration. */
export interface SesDeps {
  now: () => Date
  /** The signing certificates, cached by URL across requests (createSnsCertificates). */
  certificates: SnsCertificates
}

/**
 * Verifies an SNS message as AWS documents it and returns its SES events: the topic must be ours,
 * the Timestamp recent, the signature (SignatureVersion 1 or 2) must hold under the certificate at
 * an SNS SigningCertURL. A SubscriptionConfirmation gives its SubscribeURL for the caller to visit;
 * an UnsubscribeConfirmation gives nothing.
 */
async function verifySes(req: ProviderRequest, cfg: SesConfig, deps: SesDeps): Promise<ProviderResult> {
  const body = parseJson(req.rawBody)
  if (body === undefined) return reject(400, 'body is not JSON')
  const m = parseSnsMessage(body)
  if (typeof m === 'string') return reject(400, m)
  // Checked before the signature, so that no other topic's messages make us fetch anything.
  if (!cfg.topicArns.includes(m.TopicArn)) return reject(401, 'TopicArn not configured')

  const now = deps.now()
  const sent = Date.parse(m.Timestamp)
  if (Number.isNaN(sent)) return reject(400, 'SNS Timestamp is not a date')
  // SNS re-sends a failed delivery with its original Timestamp and signature, so the window must
  // cover the subscription's retry policy; beyond it, a copy is taken for a replay.
  if (Math.abs(now.getTime() - sent) > (cfg.maxAgeSeconds ?? 3600) * 1000) {
    return reject(401, 'SNS Timestamp outside the allowed age')
  }

  const bad = await checkSnsSignature(m, deps.certificates, now)
  if (bad) return reject(401, bad)

  if (m.Type === 'SubscriptionConfirmation') {
    if (!deps.certificates.allows(m.SubscribeURL!)) return reject(401, 'SubscribeURL not allowed')
    return { ok: true, events: [], subscribeUrl: m.SubscribeURL! }
  }
  if (m.Type === 'UnsubscribeConfirmation') return { ok: true, events: [] }

  const notification = parseJson(m.Message)
  const events = notification === undefined ? undefined : sesEvents(notification, m.MessageId, now)
  return events ? { ok: true, events } : reject(400, 'SNS Message is not an SES notification')
}

/**
 * verifySes with its certificate cache, for one configuration. Throws when the configuration cannot
 * work (no topic), so that a mistake shows at start-up.
 */
export function createSesVerifier(
  cfg: SesConfig,
  deps: { now: () => Date; fetch?: typeof fetch },
): (req: ProviderRequest) => Promise<ProviderResult> {
  if (cfg.topicArns.length === 0) throw new Error('SES events need at least one SNS topic ARN')
  const certificates = createSnsCertificates({
    prefixes: cfg.certUrlPrefixes ?? [],
    timeoutMs: cfg.certTimeoutMs ?? 5000,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  })
  return (req) => verifySes(req, cfg, { now: deps.now, certificates })
}
