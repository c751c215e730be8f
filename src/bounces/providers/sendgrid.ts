import { createPublicKey, type KeyObject, verify } from 'node:crypto'

import type { MailEvent, MailEventKind } from '../mail-event.ts'
import { REF_METADATA_KEY } from './outgoing-headers.ts'
import {
  headerValue,
  isRecord,
  oneLine,
  parseJson,
  type ProviderRequest,
  type ProviderResult,
  recipientOf,
  reject,
  text,
  timeOf,
} from './provider-request.ts'

/**
 * SendGrid's Signed Event Webhook
 * (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features).
 */
export interface SendgridConfig {
  /** The verification key SendGrid shows: base64 DER (SPKI) of an ECDSA P-256 key, or PEM. */
  publicKey: string
  /** How far the signed timestamp may be from now (default 300 s). */
  toleranceSeconds?: number
}

const SIGNATURE = 'x-twilio-email-event-webhook-signature'
const TIMESTAMP = 'x-twilio-email-event-webhook-timestamp'

/** The configured key as a P-256 public key; throws when it is not one. */
export function sendgridPublicKey(configured: string): KeyObject {
  const pem = configured.includes('-----BEGIN')
  const key = pem
    ? createPublicKey(configured)
    : createPublicKey({ key: Buffer.from(configured.trim(), 'base64'), format: 'der', type: 'spki' })
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('the SendGrid verification key is not an ECDSA P-256 public key')
  }
  return key
}

/**
 * Checks the ECDSA (SHA-256) signature SendGrid puts over the timestamp header's bytes followed by
 * the raw body, and the timestamp's age, then returns the batch's bounce, complaint and delivery
 * events. The signed timestamp bounds a replay to the tolerance; the caller de-duplicates by
 * eventId (sg_event_id) within it.
 */
export async function verifySendgrid(
  req: ProviderRequest,
  cfg: SendgridConfig,
  deps: { now: () => Date },
): Promise<ProviderResult> {
  const signature = headerValue(req, SIGNATURE)
  const timestamp = headerValue(req, TIMESTAMP)
  if (!signature || !timestamp) return reject(401, 'no SendGrid signature headers')
  const now = deps.now()
  if (!/^\d+$/.test(timestamp)) return reject(401, 'SendGrid timestamp is not a number')
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > (cfg.toleranceSeconds ?? 300)) {
    return reject(401, 'SendGrid timestamp outside the tolerance')
  }
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), req.rawBody])
  // A key that is not one throws here: a configuration fault (a 500), not the request's.
  const key = sendgridPublicKey(cfg.publicKey)
  if (!ecdsaHolds(signed, key, signature)) return reject(401, 'bad SendGrid signature')

  const batch = parseJson(req.rawBody)
  if (!Array.isArray(batch)) return reject(400, 'body is not a JSON array')
  const events: MailEvent[] = []
  for (const e of batch) {
    const kind = isRecord(e) ? sendgridKind(e) : undefined
    if (!isRecord(e) || !kind) continue
    const eventId = text(e.sg_event_id)
    const recipient = recipientOf(e.email)
    if (!eventId || !recipient) return reject(400, `SendGrid ${String(e.event)} event without sg_event_id or email`)
    events.push({
      source: 'sendgrid',
      eventId,
      kind,
      // Custom arguments (X-SMTPAPI unique_args) come back as top-level properties of each event.
      ref: text(e[REF_METADATA_KEY]),
      recipient,
      diagnostic: oneLine(text(e.reason) ?? text(e.response) ?? e.status),
      at: timeOf(e.timestamp, now),
    })
  }
  return { ok: true, events }
}

function ecdsaHolds(signed: Buffer, key: KeyObject, signature: string): boolean {
  try {
    return verify('sha256', signed, key, Buffer.from(signature, 'base64'))
  } catch {
    // A signature that is no DER at all: not SendGrid's.
    return false
  }
}

/**
 * Our kind for a SendGrid event (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event),
 * undefined for the ones we drop (processed, open, click, unsubscribes).
 * - bounce: `type: "bounce"` is the receiving server refusing for good; `type: "blocked"` is its
 *   refusing for now (reputation, content, rate), so it only counts.
 * - dropped: SendGrid never sent it. For "Bounced Address" and "Invalid" it never will (the address
 *   is on its bounce list, or is no address), like a hard bounce; for "Spam Reporting Address" the
 *   recipient once marked our mail as spam; any other reason (unsubscribed, quota, content) kept
 *   this one mail from the recipient, which counts as a soft bounce.
 */
function sendgridKind(e: Record<string, unknown>): MailEventKind | undefined {
  switch (e.event) {
    case 'bounce':
      return e.type === 'blocked' ? 'soft_bounce' : 'hard_bounce'
    case 'dropped': {
      const reason = (text(e.reason) ?? '').toLowerCase()
      if (reason === 'bounced address' || reason === 'invalid') return 'hard_bounce'
      return reason === 'spam reporting address' ? 'complaint' : 'soft_bounce'
    }
    case 'deferred':
      return 'soft_bounce'
    case 'spamreport':
      return 'complaint'
    case 'delivered':
      return 'delivered'
    default:
      return undefined
  }
}
