import type { MailEvent, MailEventKind } from '../mail-event.ts'
import { POSTMARK_REF_METADATA_KEY } from './outgoing-headers.ts'
import {
  headerValue,
  isRecord,
  oneLine,
  parseJson,
  type ProviderRequest,
  type ProviderResult,
  recipientOf,
  reject,
  sameSecret,
  text,
  timeOf,
} from './provider-request.ts'

/**
 * Postmark webhooks (https://postmarkapp.com/developer/webhooks/webhooks-overview). Postmark signs
 * nothing: it authenticates by the HTTP Basic credentials written into the webhook URL
 * (`https://user:password@host/v1/email-events/postmark`) and by its published source IPs, which
 * are the operator's firewall's to enforce.
 */
export interface PostmarkConfig {
  username: string
  password: string
}

/**
 * Postmark's bounce types (https://postmarkapp.com/developer/api/bounce-api) as our kinds. A type
 * not listed (AutoResponder, Unsubscribe, Subscribe, AddressChange, ChallengeVerification,
 * OpenRelayTest, VirusNotification, Unconfirmed, InboundError, SMTPApiError,
 * TemplateRenderingFailed) says nothing about whether the address takes our mail, or blames our
 * own request: it is dropped.
 */
const BOUNCE_KINDS: Record<string, MailEventKind> = {
  HardBounce: 'hard_bounce',
  BadEmailAddress: 'hard_bounce',
  // Postmark will not send to it again until someone reactivates it.
  ManuallyDeactivated: 'hard_bounce',
  SoftBounce: 'soft_bounce',
  Transient: 'soft_bounce',
  DnsError: 'soft_bounce',
  Blocked: 'soft_bounce',
  DMARCPolicy: 'soft_bounce',
  Unknown: 'soft_bounce',
  // "Delivered, but blocked by the user or classified as spam": a filter's verdict as often as the
  // person's, so it counts like a soft bounce rather than suppressing the address at once.
  SpamNotification: 'soft_bounce',
  SpamComplaint: 'complaint',
}

/**
 * Checks the Basic credentials (in constant time) and returns the record's event, if it is a
 * Bounce, SpamComplaint or Delivery. Postmark has no replay protection of its own (no timestamp,
 * no nonce): a copied request verifies again, and the caller de-duplicates by eventId.
 */
export async function verifyPostmark(
  req: ProviderRequest,
  cfg: PostmarkConfig,
  deps: { now: () => Date },
): Promise<ProviderResult> {
  const m = /^Basic\s+(\S+)\s*$/i.exec(headerValue(req, 'authorization') ?? '')
  if (!m) return reject(401, 'no Basic credentials')
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const user = colon < 0 ? decoded : decoded.slice(0, colon)
  const password = colon < 0 ? '' : decoded.slice(colon + 1)
  // Both compared, whichever fails, so the time says nothing about which one was right.
  const userOk = sameSecret(user, cfg.username)
  const passwordOk = sameSecret(password, cfg.password)
  if (!userOk || !passwordOk) return reject(401, 'wrong Basic credentials')

  const record = parseJson(req.rawBody)
  if (!isRecord(record)) return reject(400, 'body is not a JSON object')
  const events = postmarkEvents(record, exactId(req.rawBody, record.ID), deps.now())
  return events ? { ok: true, events } : reject(400, `${text(record.RecordType) ?? 'record'} without its fields`)
}

/**
 * The record's ID as Postmark wrote it. IDs are 64-bit, past what a JSON number keeps exactly, so
 * two bounces could round to one: the digits are taken from the body, where they parse to the same
 * number as the record's ID.
 */
function exactId(raw: Buffer, parsed: unknown): string | undefined {
  if (typeof parsed !== 'number' || Number.isSafeInteger(parsed)) return text(parsed)
  for (const m of raw.toString().matchAll(/"ID"\s*:\s*(\d+)/g)) if (Number(m[1]) === parsed) return m[1]
  return String(parsed)
}

function postmarkEvents(r: Record<string, unknown>, id: string | undefined, received: Date): MailEvent[] | undefined {
  const ref = isRecord(r.Metadata) ? text(r.Metadata[POSTMARK_REF_METADATA_KEY]) : undefined
  const event = (kind: MailEventKind, eventId: string, recipient: string, diagnostic: unknown, at: unknown) => ({
    source: 'postmark' as const,
    eventId,
    kind,
    ref,
    recipient,
    diagnostic: oneLine(diagnostic),
    at: timeOf(at, received),
  })

  if (r.RecordType === 'Bounce' || r.RecordType === 'SpamComplaint') {
    const kind = r.RecordType === 'SpamComplaint' ? 'complaint' : BOUNCE_KINDS[text(r.Type) ?? '']
    if (!kind) return []
    const recipient = recipientOf(r.Email)
    if (!id || !recipient) return undefined
    return [event(kind, id, recipient, text(r.Details) ?? r.Description, r.BouncedAt)]
  }
  if (r.RecordType === 'Delivery') {
    const messageId = text(r.MessageID)
    const recipient = recipientOf(r.Recipient)
    if (!messageId || !recipient) return undefined
    // A delivery has no record ID of its own: the message, the record type and the recipient are one.
    return [event('delivered', `${messageId}:Delivery:${recipient}`, recipient, r.Details, r.DeliveredAt)]
  }
  return []
}
