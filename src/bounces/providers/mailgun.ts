import { createHmac, timingSafeEqual } from 'node:crypto'

import type { MailEventKind } from '../mail-event.ts'
import { REF_METADATA_KEY } from './outgoing-headers.ts'
import {
  isRecord,
  oneLine,
  parseJson,
  type ProviderRequest,
  type ProviderResult,
  recipientOf,
  refFromEnvelope,
  reject,
  text,
  timeOf,
} from './provider-request.ts'
import { createSeenTokens, type SeenTokens } from './seen-tokens.ts'

/** Mailgun webhooks (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks). */
export interface MailgunConfig {
  /** The HTTP webhook signing key from Mailgun's control panel (not the API key). */
  signingKey: string
  /** How far the signed timestamp may be from now (default 300 s). */
  toleranceSeconds?: number
  /** How many accepted tokens to remember against replays (default 10000). */
  maxSeenTokens?: number
}

/** What verifyMailgun needs beside the request and the configuration. */
export interface MailgunDeps {
  now: () => Date
  /** Tokens already accepted (createSeenTokens), kept across requests. */
  seenTokens: SeenTokens
}

/**
 * Checks Mailgun's signature (HMAC-SHA256 with the signing key over timestamp and token, hex), the
 * timestamp's age, and that the token was not accepted before, as Mailgun advises; then returns the
 * event if it is a failure, a complaint or a delivery. The token memory is per process and bounded,
 * so it stops the common replay, not every one: the caller still de-duplicates by eventId.
 */
async function verifyMailgun(req: ProviderRequest, cfg: MailgunConfig, deps: MailgunDeps): Promise<ProviderResult> {
  const body = parseJson(req.rawBody)
  if (body === undefined) return reject(400, 'body is not JSON')
  if (!isRecord(body)) return reject(400, 'body is not a JSON object')
  const sig = isRecord(body.signature) ? body.signature : {}
  const timestamp = text(sig.timestamp)
  const token = text(sig.token)
  const signature = text(sig.signature)
  if (!timestamp || !token || !signature) return reject(401, 'no Mailgun signature')

  const want = createHmac('sha256', cfg.signingKey)
    .update(timestamp + token)
    .digest()
  const got = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(want.length)
  // An ill-formed signature is compared too (against zeros), so that it takes as long as any other.
  if (!timingSafeEqual(want, got)) return reject(401, 'bad Mailgun signature')

  const now = deps.now()
  const nowMs = now.getTime()
  const toleranceMs = (cfg.toleranceSeconds ?? 300) * 1000
  const signedMs = Number(timestamp) * 1000
  if (!Number.isFinite(signedMs) || Math.abs(nowMs - signedMs) > toleranceMs) {
    return reject(401, 'Mailgun timestamp outside the tolerance')
  }
  // Remembered only once the signature holds, and for as long as the timestamp would still pass.
  if (!deps.seenTokens.claim(token, signedMs + toleranceMs, nowMs)) return reject(401, 'Mailgun token replayed')

  const data = body['event-data']
  if (!isRecord(data)) return reject(400, 'no event-data')
  const kind = mailgunKind(data)
  if (!kind) return { ok: true, events: [] }
  const eventId = text(data.id)
  const recipient = recipientOf(data.recipient)
  if (!eventId || !recipient) return reject(400, `Mailgun ${String(data.event)} event without id or recipient`)
  const vars = isRecord(data['user-variables']) ? data['user-variables'] : {}
  const envelope = isRecord(data.envelope) ? data.envelope : {}
  const status = isRecord(data['delivery-status']) ? data['delivery-status'] : {}
  const said = [text(status.code), text(status.message) ?? text(status.description)].filter(Boolean).join(' ')
  return {
    ok: true,
    events: [
      {
        source: 'mailgun',
        eventId,
        kind,
        ref: text(vars[REF_METADATA_KEY]) ?? refFromEnvelope(envelope.sender),
        recipient,
        diagnostic: oneLine(said || data.reason),
        at: timeOf(data.timestamp, now),
      },
    ],
  }
}

/**
 * Our kind for a Mailgun event (https://documentation.mailgun.com/docs/mailgun/user-manual/events/event-types):
 * `failed` is permanent (a hard bounce, or Mailgun giving up) or temporary (it will retry); opens,
 * clicks, accepted and the rest are dropped.
 */
function mailgunKind(data: Record<string, unknown>): MailEventKind | undefined {
  if (data.event === 'failed') return data.severity === 'permanent' ? 'hard_bounce' : 'soft_bounce'
  if (data.event === 'complained') return 'complaint'
  if (data.event === 'delivered') return 'delivered'
  return undefined
}

/** verifyMailgun with its own memory of accepted tokens, for one configuration. */
export function createMailgunVerifier(
  cfg: MailgunConfig,
  deps: { now: () => Date },
): (req: ProviderRequest) => Promise<ProviderResult> {
  if (cfg.signingKey === '') throw new Error('Mailgun events need the webhook signing key')
  const seenTokens = createSeenTokens(cfg.maxSeenTokens ?? 10_000)
  return (req) => verifyMailgun(req, cfg, { now: deps.now, seenTokens })
}
